// Bench: 50 concurrent downloads of one 256 MB file from Kindling's mirror and from
// nginx (sendfile on) serving the same file, in the same run. Reports aggregate
// throughput, server CPU seconds per GB and Kindling's peak RSS.
// Run: node --import tsx bench/mirror-serve.ts [SIZE_MB] [CLIENTS]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  chmodSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
  mkdirSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sizeMb = Number(process.argv[2] ?? 256);
const clients = Number(process.argv[3] ?? 50);
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const work = mkdtempSync(path.join(os.tmpdir(), 'kindling-bench-mirror-'));
// nginx's worker runs as an unprivileged user and must read the tree.
chmodSync(work, 0o755);
const name = 'flatcar_production_image.bin.bz2';
const versionDir = path.join(work, 'mirror/flatcar/stable/amd64-usr/1.0.0');

function makeFile(): void {
  mkdirSync(versionDir, { recursive: true });
  const fd = openSync(path.join(versionDir, name), 'w');
  const chunk = Buffer.alloc(1 << 20);
  const hash = createHash('sha256');
  for (let i = 0; i < sizeMb; i++) {
    randomFillSync(chunk);
    hash.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const manifest = {
    source: 'flatcar-stable',
    version: '1.0.0',
    publishedAt: new Date().toISOString(),
    signatureChecked: true,
    files: { [name]: { file: name, size: sizeMb << 20, sha256: hash.digest('hex') } },
  };
  writeFileSync(path.join(versionDir, '.manifest.json'), JSON.stringify(manifest));
  symlinkSync('1.0.0', path.join(work, 'mirror/flatcar/stable/amd64-usr/current'));
}

function cpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    total += (Number(fields[11]) + Number(fields[12])) / ticks;
  }
  return total;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listening on ${port}`);
}

async function load(url: string): Promise<{ seconds: number; bytes: number }> {
  const start = process.hrtime.bigint();
  const sizes = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<number>((resolve, reject) => {
          const curl = spawn('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', url]);
          let out = '';
          curl.stdout.on('data', (d: Buffer) => (out += d.toString()));
          curl.on('exit', (code) =>
            code === 0 && out.endsWith(' 200')
              ? resolve(Number(out.split(' ')[0]))
              : reject(new Error(`curl ${url}: exit ${code}, ${out}`)),
          );
        }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const bytes = sizes.reduce((a, b) => a + b, 0);
  if (bytes !== clients * (sizeMb << 20)) throw new Error(`short downloads: ${bytes} bytes`);
  return { seconds, bytes };
}

async function measure(
  label: string,
  url: string,
  pids: () => number[],
): Promise<{ label: string; mbps: number; cpuPerGb: number; seconds: number; cpu: number }> {
  await load(url); // warm the page cache and the JIT
  const before = cpuSeconds(pids());
  const { seconds, bytes } = await load(url);
  const cpu = cpuSeconds(pids()) - before;
  const gb = bytes / 2 ** 30;
  return { label, mbps: bytes / 2 ** 20 / seconds, cpuPerGb: cpu / gb, seconds, cpu };
}

const children: ChildProcess[] = [];
try {
  makeFile();
  const here = path.dirname(fileURLToPath(import.meta.url));
  const kindling = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'mirror-serve-server.ts'), work, '18181'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(kindling);
  await waitForPort(18181);

  const conf = path.join(work, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; worker_processes 1; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; server { listen 127.0.0.1:18182; root ${work}; } }\n`,
  );
  const nginx = spawn('nginx', ['-c', conf], { stdio: 'inherit' });
  children.push(nginx);
  await waitForPort(18182);
  const nginxPids = (): number[] => [
    nginx.pid as number,
    ...execFileSync('pgrep', ['-P', String(nginx.pid)])
      .toString()
      .trim()
      .split('\n')
      .map(Number),
  ];

  const url = `/mirror/flatcar/stable/amd64-usr/current/${name}`;
  const k = await measure('kindling', `http://127.0.0.1:18181${url}`, () => [kindling.pid as number]);
  const n = await measure('nginx', `http://127.0.0.1:18182/mirror/flatcar/stable/amd64-usr/1.0.0/${name}`, nginxPids);
  const rss = peakRssMb(kindling.pid as number);
  const cores = os.cpus().length;
  console.log(`${clients} clients x ${sizeMb} MiB over loopback, ${cores} cores (${os.cpus()[0]?.model})`);
  for (const r of [k, n])
    console.log(
      `${r.label.padEnd(8)} ${r.mbps.toFixed(0).padStart(6)} MiB/s aggregate  ${r.cpu.toFixed(2)} ` +
        `CPU s in ${r.seconds.toFixed(2)} s  ${r.cpuPerGb.toFixed(3)} CPU s/GiB`,
    );
  console.log(
    `ratio kindling/nginx throughput ${(k.mbps / n.mbps).toFixed(2)}, CPU per ` +
      `GiB ${(k.cpuPerGb / n.cpuPerGb).toFixed(2)}x; kindling peak RSS ${rss.toFixed(0)} MiB`,
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(work, { recursive: true, force: true });
}
