import type { TestKindling } from '../support/kindling.js';

/** A browser-like client of the admin API: the session cookie and the CSRF token, nothing else. */
export class SessionClient {
  cookie: string | null = null;
  csrf: string | null = null;
  constructor(private readonly k: TestKindling) {}

  async request(
    method: string,
    url: string,
    body?: unknown,
    options: { csrf?: string | null; contentType?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers['cookie'] = this.cookie;
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf) headers['x-csrf-token'] = csrf;
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await fetch(`${this.k.httpUrl}${url}`, {
      method,
      headers,
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) {
      const value = set.split(';')[0] ?? '';
      this.cookie = value.endsWith('=') ? null : value;
    }
    return res;
  }

  async json<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await this.request(method, url, body);
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async setPassword(password: string): Promise<Response> {
    const res = await this.request('POST', '/api/setup/password', { password });
    if (res.ok) this.csrf = ((await res.clone().json()) as { csrf: string }).csrf;
    return res;
  }

  async login(password: string): Promise<Response> {
    const res = await this.request('POST', '/api/login', { password });
    if (res.ok) this.csrf = ((await res.clone().json()) as { csrf: string }).csrf;
    return res;
  }
}
