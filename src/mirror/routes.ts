import { promises as fs } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, isKindlingError, KindlingError } from '../errors.js';
import type { Mirror, ServedFile } from './mirror.js';
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
        return sendError(reply, new KindlingError('PATH_INVALID', `/mirror/${raw}: expected /mirror/OS/CHANNEL/ARCH/VERSION/FILE without empty, . or .. parts`, { path: raw }));
      }
      const file = mirror.resolve(segments);
      if (!file) return sendError(reply, new KindlingError('NOT_FOUND', `/mirror/${raw}: no verified file of that name; GET /api/mirror lists the versions held`, { path: raw }));
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
    const source = typeof body.source === 'string' ? body.source : typeof query.source === 'string' ? query.source : undefined;
    try {
      const started = mirror.startSync(source ? { source } : {});
      return reply.status(202).send({ started: true, ...started });
    } catch (err) {
      if (isKindlingError(err)) return sendError(reply, err);
      throw err;
    }
  });
}

// The same answer as src/http/errors.ts sendError, without the mirror depending on the HTTP layer.
function sendError(reply: FastifyReply, err: KindlingError): FastifyReply {
  return reply.status(err.status).send(errorBody(err));
}

async function serveFile(request: FastifyRequest, reply: FastifyReply, file: ServedFile, chunkBytes: number): Promise<FastifyReply> {
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
    return sendError(reply, new KindlingError('NOT_FOUND', `${request.url}: the file is gone (an old version removed by mirror.keep)`));
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
