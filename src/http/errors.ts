import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { describeIssues } from '../config/yaml-document.js';
import { errorBody, isKindlingError, KindlingError, type ErrorCode } from '../errors.js';

// fastify's own 4xx errors, as codes of the table in src/errors.ts (docs/errors.md), so
// the status sent is always the one documented for the code. Any other fastify 4xx is
// REQUEST_INVALID and its documented 400.
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
};

/** A fastify error a client caused, as a KindlingError; null for anything else. */
export function fromFastifyError(fe: FastifyError): KindlingError | null {
  if (fe.validation) {
    return new KindlingError(
      'REQUEST_INVALID',
      `request ${fe.validationContext ?? ''} ${fe.message}`.replace(/\s+/g, ' ').trim(),
    );
  }
  if (!fe.statusCode || fe.statusCode < 400 || fe.statusCode >= 500) return null;
  const code = fastifyCodes[fe.code] ?? 'REQUEST_INVALID';
  const message =
    code === 'BODY_TOO_LARGE'
      ? 'the request body is larger than 64 KiB; the API takes small JSON documents'
      : fe.message;
  return new KindlingError(code, message, { fastify: fe.code });
}

/** The one way an error answer leaves: the code's documented status and body. */
export function sendError(reply: FastifyReply, err: KindlingError): FastifyReply {
  return reply.status(err.status).send(errorBody(err));
}

/**
 * Every error leaves as JSON with a stable code and a message a person can act on.
 * Unexpected errors are logged in full and answered without internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | KindlingError, request, reply) => {
    if (isKindlingError(error)) {
      request.log.info({ code: error.code, err: error.message }, 'request refused');
      return sendError(reply, error);
    }
    const mapped = fromFastifyError(error);
    if (mapped) return sendError(reply, mapped);
    request.log.error({ err: error }, 'unexpected error');
    return sendError(reply, new KindlingError('INTERNAL', 'internal error; the log has the details'));
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, new KindlingError('NOT_FOUND', `nothing at ${request.method} ${request.url.split('?')[0]}`));
  });
}

/** For Fastify({ frameworkErrors }): a bad URL or an over-long parameter, before any route runs. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, fromFastifyError(error) ?? new KindlingError('INTERNAL', 'internal error; the log has the details'));
}

/**
 * A request body checked against its schema: the parsed value, or REQUEST_INVALID with
 * one line per problem (`where: key "a.b": ...`) and the issues by path, for the page
 * to show beside its fields.
 */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const problems = describeIssues(where, parsed.error.issues);
  throw new KindlingError('REQUEST_INVALID', problems.join('\n'), {
    problems,
    issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
  });
}

/** Problems that each name a key (network and address settings), as one error the page shows field by field. */
export function keyedProblemsError(
  code: ErrorCode,
  problems: ReadonlyArray<{ key: string; message: string }>,
): KindlingError {
  return new KindlingError(code, problems.map((p) => p.message).join('\n'), {
    problems,
    issues: problems.map((p) => ({ path: p.key.split(/[.[\]]+/).filter(Boolean), message: p.message })),
  });
}
