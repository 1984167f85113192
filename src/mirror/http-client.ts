import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { KindlingError } from '../errors.js';
import { proxyFor, type UpstreamNetwork } from './proxy.js';

export type { UpstreamNetwork };

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
  /** mirror.proxy / HTTPS_PROXY and mirror.caFile; none means direct with the system CAs. */
  network?: UpstreamNetwork;
}

/**
 * GET `url`, following redirects. Resolves with the response of any status; network failures reject with
 * MIRROR_UPSTREAM.
 */
export function get(url: string, options: RequestOptions, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(
        new KindlingError('MIRROR_UPSTREAM', `mirror source ${options.source}: ${options.file}: ${url} is not a URL`, {
          source: options.source,
          url,
        }),
      );
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!client) {
      reject(
        new KindlingError(
          'MIRROR_UPSTREAM',
          `mirror source ${options.source}: ${options.file}: expected an http or https URL, found ${url}`,
          { source: options.source, url },
        ),
      );
      return;
    }
    const proxy = options.network ? proxyFor(parsed, options.network) : null;
    const onResponse = (response: IncomingMessage): void => {
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
    };
    const headers = { 'user-agent': 'kindling-mirror', ...options.headers };
    const watch = (request: http.ClientRequest): void => {
      request.setTimeout(options.idleTimeoutMs ?? defaultIdleTimeoutMs, () => {
        request.destroy(
          upstreamError(
            options,
            url,
            `no data for ${Math.round((options.idleTimeoutMs ?? defaultIdleTimeoutMs) / 1000)} ` +
              `s${proxy ? ` (through the proxy ${proxy.display})` : ''}`,
          ),
        );
      });
      request.on('error', (err) =>
        reject(
          err instanceof KindlingError
            ? err
            : upstreamError(options, url, describe(err, proxy?.display, options.network)),
        ),
      );
    };
    const signal = options.signal ? { signal: options.signal } : {};
    const ca = options.network?.ca ? { ca: options.network.ca } : {};
    if (!proxy) {
      watch(client.get(parsed, { headers, ...signal, ...(client === https ? ca : {}) }, onResponse));
    } else if (parsed.protocol === 'http:') {
      // A plain-HTTP request through a proxy names the absolute URL (RFC 9112 §3.2.2).
      watch(
        http.get(
          {
            host: proxy.url.hostname,
            port: proxy.url.port || 80,
            path: parsed.toString(),
            headers: { ...headers, host: parsed.host, ...proxy.auth },
            ...signal,
          },
          onResponse,
        ),
      );
    } else {
      // https: a CONNECT tunnel (RFC 9110 §9.3.6), then TLS to the origin inside it.
      const port = parsed.port || '443';
      const connect = http.request({
        method: 'CONNECT',
        host: proxy.url.hostname,
        port: proxy.url.port || 80,
        path: `${parsed.hostname}:${port}`,
        headers: { host: `${parsed.hostname}:${port}`, ...proxy.auth },
        ...signal,
      });
      watch(connect);
      connect.on('connect', (res, socket: Duplex) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          reject(
            upstreamError(
              options,
              url,
              (
                `the proxy ${proxy.display} refused CONNECT to ${parsed.hostname}:${port} ` +
                `with HTTP ${res.statusCode} ${res.statusMessage ?? ''}`
              ).trimEnd(),
              res.statusCode,
            ),
          );
          return;
        }
        // SNI carries host names only (RFC 6066 §3); the certificate is still checked against an IP.
        const host = parsed.hostname.replace(/^\[|\]$/g, '');
        const secure = tls.connect({ socket, ...(isIP(host) ? {} : { servername: host }), host, ...ca });
        watch(https.get(parsed, { headers, createConnection: () => secure, ...signal }, onResponse));
      });
      connect.end();
    }
  });
}

/** A network error as a person can act on it: the TLS ones usually mean an intercepting proxy. */
function describe(err: NodeJS.ErrnoException, proxy: string | undefined, network: UpstreamNetwork | undefined): string {
  const code = err.code ?? err.message;
  const via = proxy ? ` through the proxy ${proxy}` : '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    const fix = network?.caFile
      ? `mirror.caFile (${network.caFile}) does not hold its CA`
      : 'a TLS-intercepting proxy needs its CA bundle in mirror.caFile';
    return `${code}${via}: the TLS certificate is not trusted; ${fix}`;
  }
  return `${code}${via}`;
}

export function upstreamError(
  options: { source: string; file: string },
  url: string,
  what: string,
  status?: number,
): KindlingError {
  return new KindlingError('MIRROR_UPSTREAM', `mirror source ${options.source}: ${options.file}: ${url}: ${what}`, {
    source: options.source,
    file: options.file,
    url,
    ...(status ? { status } : {}),
  });
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
    throw new KindlingError(
      'MIRROR_TRUNCATED',
      `mirror source ${options.source}: ${options.file}: ${url}: the body ended after ${length} bytes`,
      { source: options.source, file: options.file, url },
    );
  }
  if (!Number.isNaN(expected) && length !== expected) {
    throw new KindlingError(
      'MIRROR_TRUNCATED',
      `mirror source ${options.source}: ${options.file}: ${url}: expected ${expected} bytes, got ${length}`,
      { source: options.source, file: options.file, url },
    );
  }
  return Buffer.concat(chunks);
}
