// Kindling's mirror routes alone in a process of their own, so the bench can read
// this process's CPU time and peak RSS. argv: DATA_DIR PORT.
import fastify from 'fastify';
import pino from 'pino';
import { mirrorFileRoutes, openMirror } from '../src/mirror/index.js';

const [dataDir, port] = process.argv.slice(2) as [string, string];
const mirror = await openMirror({
  config: {
    schedule: null,
    keep: 2,
    sources: [
      {
        name: 'flatcar-stable',
        os: 'flatcar',
        channel: 'stable',
        arch: 'amd64',
        baseUrl: 'http://127.0.0.1:9/unused',
        keys: null,
      },
    ],
  },
  dataDir,
  logger: pino({ level: 'warn' }),
});
const app = fastify({ logger: false });
// KINDLING_BENCH_CHUNK_KB compares read sizes; unset: the default (1 MiB).
const chunkKb = Number(process.env.KINDLING_BENCH_CHUNK_KB ?? 0);
mirrorFileRoutes(app, { mirror, ...(chunkKb > 0 ? { chunkBytes: chunkKb << 10 } : {}) });
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('LISTENING\n');
