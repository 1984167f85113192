// The one way the page talks to Kindling: the shared client (src/api-client, also the
// `kindling` command's) on the same origin with the session cookie, the CSRF token on
// every state-changing request, errors as ApiError with the server's code, message and
// details.
import { ApiError, KindlingClient } from '../../../src/api-client/client';

export { ApiError };
export type { Issue } from '../../../src/api-client/types';

let csrf: string | null = null;
let onAuthLost: (code: string) => void = () => undefined;

export function setCsrf(token: string | null): void {
  csrf = token;
}
export function whenAuthLost(handler: (code: string) => void): void {
  onAuthLost = handler;
}

export const client = new KindlingClient({
  baseUrl: '',
  credentials: 'same-origin',
  headers: (method): Record<string, string> => (method !== 'GET' && method !== 'HEAD' && csrf ? { 'x-csrf-token': csrf } : {}),
  // A wrong password is a 401 too, and is no lost session.
  onError: (err, path) => {
    if (err.status === 401 && !path.startsWith('/api/login') && !path.startsWith('/api/password')) onAuthLost(err.code);
  },
});

/** Runs `fn` once input has settled for `ms`; the page validates as you type without a request per key. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
