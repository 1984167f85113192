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
  headers: (method): Record<string, string> =>
    method !== 'GET' && method !== 'HEAD' && csrf ? { 'x-csrf-token': csrf } : {},
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

/**
 * PUTs a file as application/octet-stream with upload progress (fetch reports none), the CSRF token and ApiError like
 * request().
 */
export function upload(url: string, file: Blob, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new ApiError(0, 'HTTP', `upload of ${url} failed: the connection broke`, {}, url));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      try {
        const data = JSON.parse(xhr.responseText) as {
          error?: { code: string; message: string; details?: Record<string, unknown> };
        };
        reject(
          new ApiError(
            xhr.status,
            (data.error?.code ?? 'HTTP') as ConstructorParameters<typeof ApiError>[1],
            data.error?.message ?? xhr.statusText,
            data.error?.details ?? {},
            url,
          ),
        );
      } catch {
        reject(new ApiError(xhr.status, 'HTTP', `${xhr.status} ${xhr.statusText}`, {}, url));
      }
    };
    xhr.send(file);
  });
}
