import https from 'node:https';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { KindlingError } from '../errors.js';
import { clientIp, type HttpDeps } from './context.js';

// The setup page and the admin API over HTTPS; the boot routes stay on plain HTTP,
// because iPXE and firmware cannot check a self-signed certificate (docs/appliance.md,
// "HTTPS"). One fastify instance answers both ports, so every route, hook and scope is
// the same on each and `request.protocol` tells them apart.

/** What the HTTP routes know of the HTTPS side. */
export interface TlsEndpoint {
  /** SHA-256 of the served certificate, as browsers show it. */
  fingerprint: string;
  /** The HTTPS port bound (known once listening). */
  port(): number;
}

/** 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * A connection from the box itself: a loopback peer, or a peer whose address is the
 * one it connected to (the CLI reaching `http.listen` when that is the rack address).
 * Linux drops packets from the network that claim one of the box's own addresses as
 * their source (a martian, unless accept_local is set), so neither can come from outside.
 */
export function fromThisBox(socket: {
  remoteAddress?: string | undefined;
  localAddress?: string | undefined;
}): boolean {
  return (
    isLoopback(socket.remoteAddress) ||
    (socket.remoteAddress !== undefined && socket.remoteAddress === socket.localAddress)
  );
}

const hostHeader = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The same host and path on the HTTPS port: the Host the client used, else the socket's address. */
export function httpsUrlFor(request: FastifyRequest, port: number): string {
  let host = hostHeader.exec(request.headers.host ?? '')?.[1];
  if (!host) {
    const local = (request.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/i, '');
    host = local.includes(':') ? `[${local}]` : local;
  }
  const url = request.raw.url?.startsWith('/') ? request.raw.url : '/';
  return `https://${host}${port === 443 ? '' : `:${port}`}${url}`;
}

/**
 * Holds a scope (the admin API, the page) to HTTPS. On plain HTTP a browser from
 * another host is sent to the same URL over HTTPS (308 keeps the method and body);
 * a request carrying the admin token is refused, since the token has already crossed
 * the network in clear text and following a redirect would only hide that. The box
 * itself keeps plain HTTP: the CLI, and an SSH tunnel to the box's loopback.
 */
export function installHttpsOnly(scope: FastifyInstance, deps: HttpDeps): void {
  const { tls } = deps;
  scope.addHook('onRequest', async (request, reply) => {
    if (request.protocol === 'https' || fromThisBox(request.socket)) return;
    const target = httpsUrlFor(request, tls.port());
    if (request.headers.authorization !== undefined) {
      request.log.warn(
        { client: clientIp(request), url: request.url },
        'the admin token arrived over plain HTTP from another host: refused; replace DATADIR/state/admin-token',
      );
      throw new KindlingError(
        'HTTPS_REQUIRED',
        `from another host the admin API takes the token over HTTPS only: use ${target}; the token crossed the ` +
          `network in clear text, so replace DATADIR/state/admin-token (delete it and restart Kindling)`,
        { url: target },
      );
    }
    return reply.redirect(target, 308);
  });
}

/**
 * A TLS listener that hands every request to the app's router, beside the app's own
 * HTTP server. Resolves once listening; rejects when the port cannot be bound.
 */
export async function listenHttps(
  app: FastifyInstance,
  options: { host: string; port: number; key: string; cert: string; logger: Logger },
): Promise<https.Server> {
  const server = https.createServer({ key: options.key, cert: options.cert }, (req, res) => app.routing(req, res));
  // A browser that rejects the certificate closes the handshake; that is expected, not an error.
  server.on('tlsClientError', (err) => options.logger.debug({ err: err.message }, 'TLS handshake failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.logger.error({ err }, 'the HTTPS listener failed'));
  return server;
}

/** Stops accepting, ends idle keep-alive connections, and resolves when the rest finish. */
export function closeHttps(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
