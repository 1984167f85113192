import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, isKindlingError, KindlingError } from '../errors.js';
import type { Mirror, ServedFile } from './mirror.js';
import { classify } from './download.js';
import { isSafeSegment } from './layout.js';
import { parseRange } from './range.js';
import { readChunkBytes } from './verify.js';

export interface MirrorRouteDeps {
  mirror: Mirror;
  /** Read size when streaming a file; the default suits a Pi (see serveFile). */
  chunkBytes?: number;
}

/**
 * GET/HEAD /mirror/* serves only files listed in a published version's manifest, so a
 * .partial file, a staging directory or a path outside the mirror has no name here.
 * Open to the network: nodes fetch their images here without credentials.
 */
export function mirrorFileRoutes(app: FastifyInstance, deps: MirrorRouteDeps): void {
  const { mirror } = deps;

  app.route({
    method: ['GET', 'HEAD'],
    url: '/mirror/*',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const raw = (request.params as { '*': string })['*'];
      const segments = raw.split('/');
      if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
        return sendError(
          reply,
          new KindlingError(
            'PATH_INVALID',
            `/mirror/${raw}: expected /mirror/OS/CHANNEL/ARCH/VERSION/FILE without empty, . or .. parts`,
            { path: raw },
          ),
        );
      }
      const file = mirror.resolve(segments);
      if (!file)
        return sendError(
          reply,
          new KindlingError(
            'NOT_FOUND',
            `/mirror/${raw}: no verified file of that name; GET /api/mirror lists the versions held`,
            { path: raw },
          ),
        );
      return serveFile(request, reply, file, deps.chunkBytes ?? readChunkBytes);
    },
  });
}

/**
 * The mirror's admin routes, relative to the admin API's `/api` scope
 * (src/http/admin-api.ts), whose hook authenticates them.
 */
export function mirrorAdminRoutes(app: FastifyInstance, mirror: Mirror): void {
  app.get('/mirror', async () => mirror.state());

  app.post('/mirror/sync', async (request, reply) => {
    const query = request.query as { source?: unknown };
    const body = (request.body ?? {}) as { source?: unknown };
    const source =
      typeof body.source === 'string' ? body.source : typeof query.source === 'string' ? query.source : undefined;
    try {
      const started = mirror.startSync(source ? { source } : {});
      return reply.status(202).send({ started: true, ...started });
    } catch (err) {
      if (isKindlingError(err)) return sendError(reply, err);
      throw err;
    }
  });

  importRoutes(app, mirror);
}

/** Files one import may upload: a release is a handful; this bounds a runaway client. */
const maxUploadFiles = 64;

/**
 * The import upload (the page's and `kindling mirror import`'s way in): POST opens one,
 * PUT /mirror/import/ID/NAME streams a file of the copied release (application/octet-stream),
 * POST .../plan names the files the release needs, POST .../finish verifies and publishes.
 */
function importRoutes(app: FastifyInstance, mirror: Mirror): void {
  app.register(async (scope) => {
    // The body is a stream written to disk as it arrives, never held in memory.
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    const fail = (reply: FastifyReply, err: unknown) => {
      if (isKindlingError(err)) return sendError(reply, err);
      throw err;
    };

    scope.post('/mirror/import', async (_request, reply) =>
      reply.status(201).send({ upload: (await mirror.openUpload()).id }),
    );

    scope.put<{ Params: { id: string; name: string } }>('/mirror/import/:id/:name', async (request, reply) => {
      try {
        const dir = mirror.uploadDir(request.params.id);
        const name = request.params.name;
        if (!isSafeSegment(name))
          throw new KindlingError(
            'PATH_INVALID',
            `upload ${name.slice(0, 64)}: expected a plain file name (letters, digits, . _ + -)`,
            { file: name.slice(0, 64) },
          );
        const held = await fs.readdir(dir);
        if (!held.includes(name) && held.length >= maxUploadFiles)
          throw new KindlingError('REQUEST_INVALID', `upload ${name}: at most ${maxUploadFiles} files per import`, {
            file: name,
          });
        if (!(request.body instanceof Readable))
          throw new KindlingError(
            'REQUEST_INVALID',
            `upload ${name}: expected the file as the body with content-type application/octet-stream`,
            { file: name },
          );
        const temp = path.join(dir, `.${name}.part`);
        try {
          await pipeline(request.body, createWriteStream(temp, { highWaterMark: 1 << 20 }));
        } catch (err) {
          await fs.rm(temp, { force: true });
          throw classify({ source: 'upload', name }, err, 0, null);
        }
        await fs.rename(temp, path.join(dir, name));
        return reply.send({ file: name, size: (await fs.stat(path.join(dir, name))).size });
      } catch (err) {
        return fail(reply, err);
      }
    });

    scope.post<{ Params: { id: string }; Body: { source?: unknown } | null }>(
      '/mirror/import/:id/plan',
      async (request, reply) => {
        try {
          const source = typeof request.body?.source === 'string' ? request.body.source : undefined;
          return await mirror.planImport({ dir: mirror.uploadDir(request.params.id), ...(source ? { source } : {}) });
        } catch (err) {
          return fail(reply, err);
        }
      },
    );

    scope.post<{ Params: { id: string }; Body: { source?: unknown } | null }>(
      '/mirror/import/:id/finish',
      async (request, reply) => {
        const source = typeof request.body?.source === 'string' ? request.body.source : undefined;
        try {
          const dir = mirror.uploadDir(request.params.id);
          const outcome = await mirror
            .importRelease({ dir, consume: true, ...(source ? { source } : {}) })
            .finally(() => mirror.closeUpload(request.params.id));
          return reply.send({ outcome });
        } catch (err) {
          return fail(reply, err);
        }
      },
    );
  });
}

// The same answer as src/http/errors.ts sendError, without the mirror depending on the HTTP layer.
function sendError(reply: FastifyReply, err: KindlingError): FastifyReply {
  return reply.status(err.status).send(errorBody(err));
}

async function serveFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: ServedFile,
  chunkBytes: number,
): Promise<FastifyReply> {
  const etag = `"${file.sha256.slice(0, 40)}"`;
  const lastModified = file.lastModified.toUTCString();
  reply.header('accept-ranges', 'bytes');
  reply.header('etag', etag);
  reply.header('last-modified', lastModified);
  // `current` moves on when a version is published; a version's own files never change.
  reply.header('cache-control', file.viaCurrent ? 'no-cache' : 'public, max-age=86400');
  reply.header('content-type', file.path.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream');

  if (notModified(request, etag, file.lastModified)) return reply.status(304).send();

  let range = parseRange(request.headers.range, file.size);
  const ifRange = request.headers['if-range'];
  if (ifRange && ifRange !== etag && ifRange !== lastModified) range = { kind: 'full' };
  if (range.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    return reply.status(416).send();
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : file.size - 1;
  if (range.kind === 'partial') {
    reply.status(206);
    reply.header('content-range', `bytes ${start}-${end}/${file.size}`);
  }
  reply.header('content-length', String(Math.max(0, end - start + 1)));
  if (request.method === 'HEAD' || file.size === 0) return reply.send();

  // Open before answering so a file removed by retention gives 404, not a broken 200.
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file.path, 'r');
  } catch {
    reply.removeHeader('content-length');
    reply.removeHeader('content-range');
    return sendError(
      reply,
      new KindlingError('NOT_FOUND', `${request.url}: the file is gone (an old version removed by mirror.keep)`),
    );
  }
  // 1 MiB reads: Node has no sendfile for HTTP, and 64 KiB reads cost about twice the CPU per GB.
  return reply.send(handle.createReadStream({ start, end, highWaterMark: chunkBytes }));
}

function notModified(request: FastifyRequest, etag: string, lastModified: Date): boolean {
  const inm = request.headers['if-none-match'];
  if (inm) return inm.split(',').some((t) => t.trim() === etag || t.trim() === '*' || t.trim() === `W/${etag}`);
  const ims = request.headers['if-modified-since'];
  if (ims) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}
