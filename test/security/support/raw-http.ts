import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with the request-target sent byte for byte as given: fetch and
 * the WHATWG URL parser normalise `/./`, `..` and case in ways an attacker's own
 * client does not, so attack tests need the raw path on the wire.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  rawPath: string,
  options: { headers?: Record<string, string>; body?: string; timeoutMs?: number; localAddress?: string } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  // localAddress 127.0.0.N: every address of 127/8 is on lo, so one test plays many clients.
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        method,
        path: rawPath,
        headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        // An event stream never ends: the headers and the first bytes are the answer.
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        res.on('data', (chunk: string) => {
          body += chunk;
          if (String(res.headers['content-type']).startsWith('text/event-stream')) {
            done();
            req.destroy();
          }
        });
        res.on('end', done);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${rawPath}: no answer within ${options.timeoutMs ?? 5000} ms`)),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
