// Event-stream clients that never read, and a burst of events: Kindling (drops a client
// past 1 MiB buffered, at most 8 streams per token) against the same events written
// to every stalled client without backpressure, as v1 did, each in its own process.
// Usage: npx tsx bench/event-stream-flood.ts   (CLIENTS=50 EVENTS=30000)
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { startTestKindling } from '../test/support/kindling.js';

const clients = Number(process.env['CLIENTS'] ?? 50);
const events = Number(process.env['EVENTS'] ?? 30_000);
const filler = 'x'.repeat(400);
const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;

function stalled(port: number, token: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      socket.once('data', (d: Buffer) => {
        socket.pause();
        resolve(d.toString().startsWith('HTTP/1.1 200') ? socket : null);
      });
    });
    socket.on('error', () => resolve(null));
  });
}

async function timeGet(port: number, path: string): Promise<number> {
  const start = performance.now();
  await new Promise<void>((resolve, reject) =>
    http
      .get({ port, host: '127.0.0.1', path, agent: false }, (res) => res.resume().on('end', resolve))
      .on('error', reject),
  );
  return Math.round((performance.now() - start) * 10) / 10;
}

async function run(mode: 'kindling' | 'unbounded'): Promise<Record<string, unknown>> {
  let port: number;
  let token = '';
  let emit: (i: number) => void;
  let stop: () => Promise<void>;
  if (mode === 'kindling') {
    const k = await startTestKindling();
    port = Number(new URL(k.httpUrl).port);
    token = k.adminToken;
    emit = (i) => k.inventory.note('52:54:00:ee:00:01', 'bench', `event ${i} ${filler}`);
    stop = () => k.stop();
  } else {
    const streams: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': events\n\n');
      streams.push(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    emit = (i) => {
      const event = { mac: '52:54:00:ee:00:01', type: 'bench', message: `event ${i} ${filler}` };
      const line = `data: ${JSON.stringify(event)}\n\n`;
      for (const s of streams) s.write(line);
    };
    stop = async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    };
  }
  const before = process.memoryUsage().rss;
  const sockets = await Promise.all(Array.from({ length: clients }, () => stalled(port, token)));
  let peak = before;
  for (let i = 0; i < events; i++) {
    emit(i);
    if (i % 500 === 0) {
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  const healthz = await timeGet(port, '/healthz');
  peak = Math.max(peak, process.memoryUsage().rss);
  for (const s of sockets) s?.destroy();
  await stop();
  return {
    mode,
    clients,
    accepted: sockets.filter(Boolean).length,
    events,
    rssBeforeMiB: mib(before),
    rssPeakMiB: mib(peak),
    requestDuringMs: healthz,
  };
}

const mode = process.argv[2];
if (mode === 'kindling' || mode === 'unbounded') {
  console.log(JSON.stringify(await run(mode)));
  process.exit(0);
} else {
  for (const m of ['unbounded', 'kindling']) {
    process.stdout.write(
      execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, m], {
        encoding: 'utf8',
        env: { ...process.env, KINDLING_TEST_LOG: 'silent' },
      }),
    );
  }
}
