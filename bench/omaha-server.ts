// The server side of bench/omaha.ts in a process of its own, so the bench reads only
// its RSS. argv: MODE DATA_DIR. MODE `kindling`: a real Kindling (src/main.ts) over a
// mirror tree the bench wrote; `floor`: fastify answering one static XML body, the least
// any Omaha server on this stack can cost.
import fastify from 'fastify';
import { pino } from 'pino';
import { parseConfig } from '../src/config/index.js';
import { startKindling } from '../src/main.js';

const [mode, dataDir] = process.argv.slice(2) as [string, string];
if (mode === 'floor') {
  const app = fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addContentTypeParser('text/xml', { parseAs: 'string' }, (_r, body, done) => done(null, body));
  const answer =
    '<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0" server="floor"><daystart ' +
    'elapsed_seconds="0"></daystart><app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" status="ok"><ping ' +
    'status="ok"></ping><updatecheck status="noupdate"></updatecheck></app></response>\n';
  app.post('/v1/update/', async (_request, reply) => reply.type('text/xml; charset=utf-8').send(answer));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`LISTENING http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
} else {
  const source = {
    name: 'flatcar-stable',
    os: 'flatcar',
    channel: 'stable',
    arch: 'amd64',
    baseUrl: 'http://127.0.0.1:9/unused',
    keys: null,
  };
  const config = parseConfig(
    {
      dataDir,
      http: { listen: '127.0.0.1', port: 0, httpsPort: 0 },
      tftp: { enabled: false },
      dhcp: { mode: 'off' },
      mirror: { schedule: null, sources: [source] },
    },
    'bench',
    dataDir,
  );
  const k = await startKindling({ config, configFile: null, logger: pino({ level: 'warn' }) });
  process.stdout.write(`LISTENING ${k.httpUrl}\n`);
  process.on('SIGTERM', () => void k.close().then(() => process.exit(0)));
}
