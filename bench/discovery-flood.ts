// Discovery-flood bench: what a new machine costs the SD card with
// the old whole-document machines.json against the journal, in the same run, and what
// a flood of unknown MACs on /ipxe does to a declared machine's boot. Not a test:
// `npx tsx bench/discovery-flood.ts` (MACS=N, OLD=N). Prints markdown for docs/benchmarks.md.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { JsonDocument } from '../src/store/json-document.js';
import { startTestKindling } from '../test/support/kindling.js';
import { prng } from '../test/support/prng.js';

const MACS = Number(process.env['MACS'] ?? 5000);
const OLD = Number(process.env['OLD'] ?? 1024);
const SOURCES = 256;
const WIDTH = 32;

/** Bytes this process sent to the storage layer (page-granular; 0 on tmpfs). */
const writeBytes = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? NaN;
const random = prng(2026);
const hex = () =>
  Math.floor(random() * 256)
    .toString(16)
    .padStart(2, '0');
const randomMac = () => `02:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`;

function get(base: string, url: string, localAddress: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path: url, agent: false, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Distinct loopback addresses (all of 127/8 is on lo), none of them the declared machine's 127.0.1.1. */
const sourceAddress = (n: number) => `127.1.${Math.floor(n / 200)}.${2 + (n % 200)}`;

function sampleRecord(mac: string, i: number) {
  const now = new Date().toISOString();
  return {
    mac,
    state: 'discovered',
    stateSince: now,
    firstSeen: now,
    lastSeen: now,
    token: 'x'.repeat(32),
    autoName: null,
    autoProfile: null,
    facts: { arch: 'x86_64', platform: 'efi', uuid: null, lastIp: `127.0.0.${i % 250}` },
    installs: 0,
    lastError: null,
  };
}

// 1. The old way: machines.json rewritten whole (atomically, fsync'd) for each new MAC.
const oldDir = mkdtempSync(path.join(tmpdir(), 'kindling-bench-old-'));
const doc = new JsonDocument<{ version: 1; nextNumber: number; machines: Record<string, unknown> }>(
  { file: path.join(oldDir, 'machines.json'), coalesceMs: 0 },
  { version: 1, nextNumber: 1, machines: {} },
);
let oldLogical = 0;
const oldIo = writeBytes();
const oldStarted = performance.now();
for (let i = 0; i < OLD; i++) {
  const mac = randomMac();
  doc.data.machines[mac] = sampleRecord(mac, i);
  await doc.touch();
  oldLogical += statSync(path.join(oldDir, 'machines.json')).size;
}
const oldMs = performance.now() - oldStarted;
const oldIoBytes = writeBytes() - oldIo;
const oldFinal = statSync(path.join(oldDir, 'machines.json')).size;
rmSync(oldDir, { recursive: true, force: true });

// 2. Kindling now: a real service, flooded from SOURCES addresses, a declared machine booting throughout.
const declared = '52:54:00:be:9c:01';
const k = await startTestKindling({
  files: { 'machines.yaml': `- { mac: "${declared}", name: keeper, profile: flatcar-install }\n` },
});
const stateDir = path.join(k.dataDir, 'state');
const size = (f: string) => statSync(path.join(stateDir, f), { throwIfNoEntry: false })?.size ?? 0;
const quiet: number[] = [];
for (let i = 0; i < 200; i++) quiet.push((await get(k.httpUrl, '/boot.ipxe', '127.0.1.1')).ms);
const quietIpxe: number[] = [];
for (let i = 0; i < 200; i++) quietIpxe.push((await get(k.httpUrl, `/ipxe?mac=${declared}`, '127.0.1.1')).ms);
await k.inventory.flush();
const rssBefore = rssMiB();
const ioBefore = writeBytes();
const eventsBefore = size('events.jsonl');
const journalBefore = k.inventory.journalStats();
const machinesBefore = k.inventory.list().length;

let next = 0;
let done = false;
const statuses = new Map<number, number>();
const started = performance.now();
const flood = Promise.all(
  Array.from({ length: WIDTH }, async () => {
    while (next < MACS) {
      const i = next++;
      const r = await get(k.httpUrl, `/ipxe?mac=${randomMac()}&arch=x86_64&platform=efi`, sourceAddress(i % SOURCES));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  }),
).then(() => {
  done = true;
});
const during: number[] = [];
const duringIpxe: number[] = [];
while (!done) {
  during.push((await get(k.httpUrl, '/boot.ipxe', '127.0.1.1')).ms);
  duringIpxe.push((await get(k.httpUrl, `/ipxe?mac=${declared}`, '127.0.1.1')).ms);
}
await flood;
const floodMs = performance.now() - started;
await k.inventory.flush();
const recorded = k.inventory.list().length - machinesBefore;
const journal = k.inventory.journalStats();
const journalBytes = journal.bytes + journal.compactedBytes - journalBefore.bytes - journalBefore.compactedBytes;
const eventBytes = size('events.jsonl') - eventsBefore;
const newIo = writeBytes() - ioBefore;
const rssAfter = rssMiB();
await k.stop();

const kb = (n: number) => (n / 1024).toFixed(2);
console.log(
  `| per new machine | old: machines.json rewritten (${OLD} MACs) | now: ` +
    `journal (${recorded} recorded of ${MACS} sent) |`,
);
console.log('|---|---|---|');
console.log(
  `| bytes written (file contents), KiB | ${kb(oldLogical / OLD)} (document at the ` +
    `end: ${kb(oldFinal)}) | ${kb((journalBytes + eventBytes) / recorded)} ` +
    `(journal ${kb(journalBytes / recorded)}, events ${kb(eventBytes / recorded)}) |`,
);
console.log(
  `| /proc/self/io write_bytes, KiB | ${kb(oldIoBytes / OLD)} ` +
    `| ${kb(newIo / recorded)} (whole flood, refused MACs included) |`,
);
console.log(`| time, ms | ${(oldMs / OLD).toFixed(2)} | ${(floodMs / MACS).toFixed(3)} per /ipxe request |`);
console.log(
  `\njournal: ${journal.records - journalBefore.records} records, ${journal.syncs - journalBefore.syncs} ` +
    `syncs, ${journal.compactions} compactions; /ipxe answers ${JSON.stringify(Object.fromEntries(statuses))}; ` +
    `flood ${(floodMs / 1000).toFixed(1)} s, ${WIDTH} in flight from ${SOURCES} addresses`,
);
console.log(`RSS ${rssBefore.toFixed(0)} MiB before the flood, ${rssAfter.toFixed(0)} MiB after\n`);
console.log('| declared machine | n | median ms | p95 ms |\n|---|---|---|---|');
console.log(`| /boot.ipxe, idle | ${quiet.length} | ${median(quiet).toFixed(2)} | ${p95(quiet).toFixed(2)} |`);
console.log(
  `| /boot.ipxe, during the flood | ${during.length} | ${median(during).toFixed(2)} | ${p95(during).toFixed(2)} |`,
);
console.log(
  `| /ipxe (install script), idle | ${quietIpxe.length} ` +
    `| ${median(quietIpxe).toFixed(2)} | ${p95(quietIpxe).toFixed(2)} |`,
);
console.log(
  `| /ipxe (install script), during the flood | ${duringIpxe.length} ` +
    `| ${median(duringIpxe).toFixed(2)} | ${p95(duringIpxe).toFixed(2)} |`,
);
console.log(`\nnode ${process.version}, ${process.arch}`);
