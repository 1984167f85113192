// Omaha requests/s from 1,000 simulated Flatcar nodes (distinct machine ids) against a
// real Kindling, and its RSS before and after; beside it the floor: fastify answering a
// static XML body (there is no Nebraska here: it needs PostgreSQL). Each node sends what
// update_engine sends (src/updates/fixtures.test-data.ts): a scheduled check, then the
// download-started, download-finished and update-complete events.
// Run: node --import tsx bench/omaha.ts [NODES] [ROUNDS] [CONCURRENCY]
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateEngineCheck, updateEngineEvent } from '../src/updates/fixtures.test-data.js';

const nodes = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 50);
const here = path.dirname(fileURLToPath(import.meta.url));

function mirrorTree(dataDir: string): void {
  // A published version as sync-source.ts leaves it: files, manifest, `current`.
  const dir = path.join(dataDir, 'mirror/flatcar/stable/amd64-usr');
  const version = path.join(dir, '3815.2.1');
  mkdirSync(version, { recursive: true });
  const payload = randomBytes(1 << 20);
  writeFileSync(path.join(version, 'flatcar_production_update.gz'), payload);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const manifest = {
    source: 'flatcar-stable',
    version: '3815.2.1',
    publishedAt: new Date().toISOString(),
    signatureChecked: false,
    files: { 'flatcar_production_update.gz': { file: 'flatcar_production_update.gz', size: payload.length, sha256 } },
  };
  writeFileSync(path.join(version, '.manifest.json'), JSON.stringify(manifest));
  symlinkSync('3815.2.1', path.join(dir, 'current'));
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function start(mode: string, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'omaha-server.ts'), mode, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited ${code}`)));
  });
  return { child, url };
}

function bodies(): string[] {
  const out: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < nodes; i++) {
      const machineId = createHash('md5').update(`node-${i}`).digest('hex');
      const step = r % 4;
      out.push(
        step === 0
          ? updateEngineCheck({ version: '3815.2.0', track: 'stable', machineId })
          : updateEngineEvent({
              version: '3815.2.0',
              track: 'stable',
              machineId,
              type: [13, 14, 3][step - 1] as number,
              result: 1,
            }),
      );
    }
  }
  return out;
}

async function load(url: string, list: string[]): Promise<{ seconds: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) {
        const body = list[next++] as string;
        const res = await fetch(`${url}/v1/update/`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
        const text = await res.text();
        if (res.status !== 200 || !text.includes('status="ok"')) failed++;
      }
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, failed };
}

const list = bodies();
console.log(
  `| server | requests | nodes | concurrency | req/s | failed | RSS before MiB | RSS ` +
    `after MiB | peak MiB |\n|---|---|---|---|---|---|---|---|---|`,
);
for (const mode of ['floor', 'kindling']) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `kindling-bench-omaha-${mode}-`));
  if (mode === 'kindling') mirrorTree(dataDir);
  const { child, url } = await start(mode, dataDir);
  try {
    await load(url, list.slice(0, 200)); // warm-up: JIT, first state write
    const before = rssMiB(child.pid as number);
    const { seconds, failed } = await load(url, list);
    const after = rssMiB(child.pid as number);
    console.log(
      `| ${mode} | ${list.length} | ${nodes} | ${concurrency} | ${Math.round(list.length / seconds)} ` +
        `| ${failed} | ${before.rss.toFixed(1)} | ${after.rss.toFixed(1)} | ${after.peak.toFixed(1)} |`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
