import type { FastifyError, FastifyInstance } from 'fastify';
import { isKindlingError, type KindlingError } from '../errors.js';

/**
 * Every error leaves as JSON with a stable code and a message a person can act on.
 * Unexpected errors are logged in full and answered without internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | KindlingError, request, reply) => {
    if (isKindlingError(error)) {
      request.log.info({ code: error.code, err: error.message }, 'request refused');
      return reply.status(error.status).send({ error: error.toJSON() });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      return reply.status(400).send({ error: { code: 'REQUEST_INVALID', message: `request ${fe.validationContext ?? ''} ${fe.message}`.replace(/\s+/g, ' ').trim(), details: {} } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: 'REQUEST_INVALID', message: fe.message, details: { fastify: fe.code } } });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; the log has the details', details: {} } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `nothing at ${request.method} ${request.url.split('?')[0]}`, details: {} } });
  });
}
