import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { KindlingError } from '../errors.js';

// A small client over node:http rather than fetch: a download needs to see a short
// body (truncation), a stalled socket and Content-Range exactly as they happen.

/** A socket silent this long is a stalled upstream; a slow one still sends something. */
export const defaultIdleTimeoutMs = 30_000;
const maxRedirects = 5;

export interface RequestOptions {
  source: string;
  file: string;
  headers?: Record<string, string>;
  idleTimeoutMs?: number;
  /** Aborts the request when Kindling stops. */
  signal?: AbortSignal;
}

/** GET `url`, following redirects. Resolves with the response of any status; network failures reject with MIRROR_UPSTREAM. */
export function get(url: string, options: RequestOptions, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new KindlingError('MIRROR_UPSTREAM', `mirror source ${options.source}: ${options.file}: ${url} is not a URL`, { source: options.source, url }));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!client) {
      reject(new KindlingError('MIRROR_UPSTREAM', `mirror source ${options.source}: ${options.file}: expected an http or https URL, found ${url}`, { source: options.source, url }));
      return;
    }
    const request = client.get(parsed, { headers: { 'user-agent': 'kindling-mirror', ...options.headers }, ...(options.signal ? { signal: options.signal } : {}) }, (response) => {
      const location = response.headers.location;
      if (response.statusCode && response.statusCode >= 300 && response.statusCode < 400 && location) {
        response.resume();
        if (redirects >= maxRedirects) {
          reject(upstreamError(options, url, `more than ${maxRedirects} redirects`));
          return;
        }
        get(new URL(location, parsed).toString(), options, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(response);
    });
    request.setTimeout(options.idleTimeoutMs ?? defaultIdleTimeoutMs, () => {
      request.destroy(upstreamError(options, url, `no data for ${Math.round((options.idleTimeoutMs ?? defaultIdleTimeoutMs) / 1000)} s`));
    });
    request.on('error', (err) => reject(err instanceof KindlingError ? err : upstreamError(options, url, (err as NodeJS.ErrnoException).code ?? err.message)));
  });
}

export function upstreamError(options: { source: string; file: string }, url: string, what: string, status?: number): KindlingError {
  return new KindlingError('MIRROR_UPSTREAM', `mirror source ${options.source}: ${options.file}: ${url}: ${what}`, { source: options.source, file: options.file, url, ...(status ? { status } : {}) });
}

/** A small document (version.txt, stream JSON, a signature), bounded so a wrong URL cannot fill memory. */
export async function getBytes(url: string, options: RequestOptions & { maxBytes: number }): Promise<Buffer> {
  const response = await get(url, options);
  if (response.statusCode !== 200) {
    response.resume();
    throw upstreamError(options, url, `expected HTTP 200, got ${response.statusCode}`, response.statusCode);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  const expected = Number(response.headers['content-length'] ?? NaN);
  try {
    for await (const chunk of response) {
      length += (chunk as Buffer).length;
      if (length > options.maxBytes) {
        response.destroy();
        throw upstreamError(options, url, `expected at most ${options.maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof KindlingError) throw err;
    throw new KindlingError('MIRROR_TRUNCATED', `mirror source ${options.source}: ${options.file}: ${url}: the body ended after ${length} bytes`, { source: options.source, file: options.file, url });
  }
  if (!Number.isNaN(expected) && length !== expected) {
    throw new KindlingError('MIRROR_TRUNCATED', `mirror source ${options.source}: ${options.file}: ${url}: expected ${expected} bytes, got ${length}`, { source: options.source, file: options.file, url });
  }
  return Buffer.concat(chunks);
}
