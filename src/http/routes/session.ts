import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionMaxMs, type Session } from '../admin-auth.js';
import { clearSessionCookie, isSecure } from '../admin-guard.js';
import { clientIp, type HttpDeps } from '../context.js';
import { readCookie, sessionCookie, sessionCookieHeader } from '../cookies.js';
import { isKindlingError } from '../../errors.js';

// Login, logout and the first-boot password. Bodies are JSON only, so a cross-site
// form cannot post them without a CORS preflight, which Kindling never grants.

const passwordBody = {
  type: 'object',
  required: ['password'],
  additionalProperties: false,
  properties: { password: { type: 'string', maxLength: 1024 } },
} as const;

const changeBody = {
  type: 'object',
  required: ['current', 'password'],
  additionalProperties: false,
  properties: { current: { type: 'string', maxLength: 1024 }, password: { type: 'string', maxLength: 1024 } },
} as const;

export function sessionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { auth } = deps;
  const open = (request: FastifyRequest, reply: FastifyReply, session: Session) => {
    reply.header(
      'set-cookie',
      sessionCookieHeader({
        value: session.id,
        maxAgeSeconds: Math.floor(sessionMaxMs / 1000),
        secure: isSecure(request),
      }),
    );
    reply.header('cache-control', 'no-store');
    return { authenticated: true, csrf: session.csrf };
  };

  app.get('/session', { config: { publicApi: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const session = auth.passwordSet ? auth.session(readCookie(request.headers.cookie, sessionCookie)) : 'missing';
    const setupComplete = deps.settings.current.setupComplete;
    // Shown on the page so the admin can compare it with the browser's and the console's.
    const tlsFingerprint = deps.tls.fingerprint;
    if (typeof session === 'string')
      return {
        passwordSet: auth.passwordSet,
        setupComplete,
        authenticated: false,
        expired: session === 'expired',
        tlsFingerprint,
      };
    return { passwordSet: true, setupComplete, authenticated: true, csrf: session.csrf, tlsFingerprint };
  });

  app.post<{ Body: { password: string } }>(
    '/setup/password',
    { config: { publicApi: true }, schema: { body: passwordBody } },
    async (request, reply) => {
      const session = await auth.setInitialPassword(request.body.password, clientIp(request));
      request.log.info({ client: clientIp(request) }, 'admin password set');
      return open(request, reply, session);
    },
  );

  app.post<{ Body: { password: string } }>(
    '/login',
    { config: { publicApi: true }, schema: { body: passwordBody } },
    async (request, reply) => {
      try {
        const session = await auth.login(request.body.password, clientIp(request));
        request.log.info({ client: clientIp(request) }, 'admin logged in');
        return open(request, reply, session);
      } catch (err) {
        if (isKindlingError(err)) {
          request.log.warn({ client: clientIp(request), code: err.code }, 'admin login refused');
          if (err.code === 'LOGIN_RATE_LIMITED') reply.header('retry-after', String(err.details['retryAfterSeconds']));
        }
        throw err;
      }
    },
  );

  app.post('/logout', async (request, reply) => {
    auth.logout(request.adminSession?.id);
    clearSessionCookie(request, reply);
    return { authenticated: false };
  });

  app.post<{ Body: { current: string; password: string } }>(
    '/password',
    { schema: { body: changeBody } },
    async (request, reply) => {
      const session = await auth.changePassword(request.body.current, request.body.password, clientIp(request));
      request.log.info({ client: clientIp(request) }, 'admin password changed; other sessions ended');
      return open(request, reply, session);
    },
  );
}
