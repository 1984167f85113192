import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KindlingError } from '../errors.js';
import type { Session } from './admin-auth.js';
import type { HttpDeps } from './context.js';
import { readCookie, sessionCookie, sessionCookieHeader } from './cookies.js';

// Who may call the admin API (admin-api.ts installs this in its /api scope): checked
// here, on the server, for every request (the page hiding a button is not security). Two ways in:
// - `Authorization: Bearer TOKEN` (DATADIR/state/admin-token, readable by root on
//   the box only): the CLI and scripts. Browsers never send it by themselves, so it
//   needs no CSRF token.
// - the page's session cookie (HttpOnly, SameSite=Strict), plus the session's CSRF
//   token in `x-csrf-token` on every request that is not GET or HEAD.
// Until an admin password is set, a browser can do nothing but set it.

declare module 'fastify' {
  interface FastifyRequest {
    adminSession: Session | null;
  }
  interface FastifyContextConfig {
    /** Reachable without a session: the session status, first-boot password, login. */
    publicApi?: boolean;
  }
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', sessionCookieHeader({ value: '', maxAgeSeconds: 0, secure: isSecure(request) }));
}

export function installAdminGuard(app: FastifyInstance, deps: HttpDeps): void {
  const expected = Buffer.from(`Bearer ${deps.adminToken}`);
  app.decorateRequest('adminSession', null);

  app.addHook('onRequest', async (request, reply) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const given = Buffer.from(authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new KindlingError(
          'AUTH_REQUIRED',
          'the admin API needs "Authorization: Bearer TOKEN" (the token is in ' +
            "DATADIR/state/admin-token) or the setup page's session",
        );
      }
      return;
    }
    if (request.routeOptions.config?.publicApi) return;
    const auth = deps.auth;
    // Until a password is set no session exists, so every call but setting it ends here.
    if (!auth.passwordSet)
      throw new KindlingError(
        'AUTH_REQUIRED',
        'no admin password is set yet: open the setup page and set one first; nothing else can change until then',
        { passwordSet: false },
      );
    const session = auth.session(readCookie(request.headers.cookie, sessionCookie));
    if (session === 'missing')
      throw new KindlingError(
        'AUTH_REQUIRED',
        'log in with the admin password first (or send "Authorization: Bearer TOKEN")',
        { passwordSet: true },
      );
    if (session === 'expired') {
      clearSessionCookie(request, reply);
      throw new KindlingError('SESSION_EXPIRED', 'the session expired or was ended; log in again');
    }
    if (!safeMethods.has(request.method)) {
      const given = request.headers['x-csrf-token'];
      if (!auth.checkCsrf(session, typeof given === 'string' ? given : undefined)) {
        throw new KindlingError(
          'CSRF_INVALID',
          "this request lacks the session's CSRF token (header x-csrf-token); reload the page",
        );
      }
    }
    request.adminSession = session;
  });
}
