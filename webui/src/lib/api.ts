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

/** PUTs a file as application/octet-stream with upload progress (fetch reports none), the CSRF token and ApiError like request(). */
export function upload(url: string, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new ApiError(0, 'HTTP', `upload of ${url} failed: the connection broke`));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      try {
        const data = JSON.parse(xhr.responseText) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
        reject(new ApiError(xhr.status, data.error?.code ?? 'HTTP', data.error?.message ?? xhr.statusText, data.error?.details ?? {}));
      } catch {
        reject(new ApiError(xhr.status, 'HTTP', `${xhr.status} ${xhr.statusText}`));
      }
    };
    xhr.send(file);
  });
}
