import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

// The setup page: webui/dist (built by `npm run build:webui`) at /. The page loads
// nothing from elsewhere (the rack has no internet), and this policy holds it to that.
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** webui/dist beside src/ or dist/ in a checkout or an installed package. */
export const defaultWebuiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../webui/dist');

export async function webuiRoutes(app: FastifyInstance, dir: string = defaultWebuiDir): Promise<void> {
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.get('/', async (_request, reply) => {
      reply.status(503).type('text/plain; charset=utf-8');
      return (
        `The setup page is not built (no ${path.join(dir, 'index.html')}).\nRun "npm run ` +
        `build:webui" in the checkout, or use the API (docs/api.md).\n`
      );
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    setHeaders: (res, file) => {
      res.setHeader('content-security-policy', contentSecurityPolicy);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('x-frame-options', 'DENY');
      // Built assets carry a content hash in their name; index.html must be fetched anew.
      res.setHeader(
        'cache-control',
        file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
