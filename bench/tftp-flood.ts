// TFTP under a slot-exhaustion flood (docs/tftp.md, "Floods"): how long a new machine takes to get a
// 1 MB boot file with and without never-ACKing RRQs (timeout=255, blksize 1468) holding
// the pool, and the server's RSS. Not a test: run by hand, results go to docs/benchmarks.md.
//   node --import tsx bench/tftp-flood.ts
// Kindling runs alone in its own process (bench/tftp-serve.ts) with the shipped limits
// (256 transfers, 4 per address); flooders are sockets on 127.0.0.2 and up, the machine is
// tftp-hpa's client on 127.0.0.1. ROUNDS=10 fetches per case.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeRequest } from '../src/tftp/packet.js';
import { makeTempDir, run, writeRandomFile } from '../test/tftp/support/harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const FILE_BYTES = 1_000_003;
const FLOOD_OPTIONS: Array<[string, string]> = [
  ['blksize', '1468'],
  ['tsize', '0'],
  ['timeout', '255'],
];

interface Kindling {
  child: ChildProcess;
  port: number;
}

async function startKindling(root: string): Promise<Kindling> {
  const settings = { roots: [root], maxTransfers: 256, maxPerClient: 4 };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'tftp-serve.ts'), JSON.stringify(settings)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tftp-serve exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^PORT (\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}

async function stopKindling(k: Kindling): Promise<void> {
  const exited = new Promise((resolve) => k.child.once('exit', resolve));
  k.child.kill('SIGTERM');
  await exited;
}

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The a-th flooding address: 127.0.0.2 .. 127.0.0.251, then 127.0.1.2 and on (all of 127/8 is local). */
const floodAddress = (a: number): string => `127.0.${Math.floor(a / 250)}.${2 + (a % 250)}`;

/** `perAddress` never-ACKing RRQs from each of `addresses` loopback addresses. */
async function flood(
  port: number,
  addresses: number,
  perAddress: number,
): Promise<{ sockets: Socket[]; oacks: () => number }> {
  const sockets: Socket[] = [];
  let oacks = 0;
  for (let a = 0; a < addresses; a++) {
    for (let i = 0; i < perAddress; i++) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, floodAddress(a), resolve));
      let first = true;
      socket.on('message', (msg: Buffer) => {
        if (first && msg.readUInt16BE(0) === 6) oacks++;
        first = false;
      });
      sockets.push(socket);
    }
  }
  for (const s of sockets) s.send(encodeRequest('RRQ', 'ipxe.efi', 'octet', FLOOD_OPTIONS), port, '127.0.0.1');
  return { sockets, oacks: () => oacks };
}

/** One fetch by tftp-hpa; a refusal ("server busy") is retried after 500 ms, as firmware retries. */
async function fetch(port: number, local: string): Promise<{ ms: number; tries: number }> {
  const started = performance.now();
  for (let tries = 1; tries <= 200; tries++) {
    await rm(local, { force: true });
    const result = await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'ipxe.efi', local]);
    // tftp-hpa exits 0 and prints a server's ERROR on stdout; only the whole file counts.
    const size = await stat(local).then(
      (s) => s.size,
      () => -1,
    );
    if (result.code === 0 && size === FILE_BYTES) return { ms: performance.now() - started, tries };
    if (process.env.DEBUG) console.error(`try ${tries}: ${result.code} ${(result.stdout + result.stderr).trim()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('no fetch in 200 tries');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function runCase(
  root: string,
  out: string,
  name: string,
  addresses: number,
  perAddress: number,
): Promise<string> {
  const k = await startKindling(root);
  try {
    // One warm-up fetch so the cache and the threads are in the same state in every case.
    await fetch(k.port, join(out, 'warm.bin'));
    const idle = memoryMiB(k.child.pid!);
    const f = addresses > 0 ? await flood(k.port, addresses, perAddress) : null;
    await new Promise((r) => setTimeout(r, 200));
    const first = await fetch(k.port, join(out, 'first.bin'));
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) times.push((await fetch(k.port, join(out, `got-${i}.bin`))).ms);
    const mem = memoryMiB(k.child.pid!);
    for (const s of f?.sockets ?? []) s.close();
    return (
      `| ${name} | ${f?.oacks() ?? 0} | ${first.ms.toFixed(0)} (${first.tries}) ` +
      `| ${median(times).toFixed(1)} | ${idle.rss.toFixed(1)} | ${mem.rss.toFixed(1)} ` +
      `| ${mem.peak.toFixed(1)} |`
    );
  } finally {
    await stopKindling(k);
  }
}

const dir = await makeTempDir('kindling-bench-flood-');
try {
  const root = join(dir.path, 'root');
  const out = join(dir.path, 'out');
  await Promise.all([mkdir(root), mkdir(out)]);
  await writeRandomFile(join(root, 'ipxe.efi'), FILE_BYTES);
  const rows = [
    '| case | flood slots held | first fetch ms (tries) | median fetch ms | ' +
      'RSS idle MiB | RSS in flood MiB | peak MiB |',
    '|---|---|---|---|---|---|---|',
    await runCase(root, out, 'no flood', 0, 0),
    await runCase(root, out, '64 addresses x 4 RRQs', 64, 4),
    await runCase(root, out, '256 addresses x 1 RRQ (pool full)', 256, 1),
  ];
  console.log(rows.join('\n'));
} finally {
  await dir.remove();
}
