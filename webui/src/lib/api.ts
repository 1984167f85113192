// The one way the page talks to Kindling: same-origin fetch with the session cookie,
// the CSRF token on every state-changing request, errors as ApiError with the
// server's code, message and details.

export interface Issue {
  path: string[];
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  get issues(): Issue[] {
    const issues = this.details['issues'];
    return Array.isArray(issues) ? (issues as Issue[]) : [];
  }
}

let csrf: string | null = null;
let onAuthLost: (code: string) => void = () => undefined;

export function setCsrf(token: string | null): void {
  csrf = token;
}
export function whenAuthLost(handler: (code: string) => void): void {
  onAuthLost = handler;
}

export async function request(method: string, url: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (!res.ok) {
    let err: ApiError;
    try {
      const data = (await res.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
      err = new ApiError(res.status, data.error?.code ?? 'HTTP', data.error?.message ?? res.statusText, data.error?.details ?? {});
    } catch {
      err = new ApiError(res.status, 'HTTP', `${res.status} ${res.statusText}`);
    }
    if (res.status === 401 && !url.startsWith('/api/login') && !url.startsWith('/api/password')) onAuthLost(err.code);
    throw err;
  }
  return res;
}

export async function api<T = any>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await request(method, url, body);
  return (await res.json()) as T;
}

export async function text(method: string, url: string, body?: unknown): Promise<string> {
  return (await request(method, url, body)).text();
}

/** Runs `fn` once input has settled for `ms`; the page validates as you type without a request per key. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
