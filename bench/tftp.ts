// TFTP throughput: Kindling against tftpd-hpa's in.tftpd and dnsmasq's TFTP, same client
// (atftp) and options, on loopback. Not a test: run by hand, results go to docs/benchmarks.md.
//   node --import tsx bench/tftp.ts
// CASES=3 (comma-separated 1-based case numbers) runs only those cases; RUNS=2 repeats
// each case, every run comparing all three servers back to back. THREADS=0,5 adds one
// more Kindling per listed transferThreads count (0: every transfer on the main thread,
// as before the transfer threads; MAIN_THREAD=1 is THREADS=0), compared in the same run.
// Needs root (dnsmasq's TFTP listens on port 69) and the Debian packages atftp,
// tftpd-hpa, dnsmasq, ipxe.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeRandomFile } from '../test/tftp/support/harness.js';

const CLK_TCK = 100;
const SMALL_CLIENTS = 50;
const LARGE_CLIENTS = 5;
const LARGE_BYTES = 64 * 1024 * 1024;
const HPA_PORT = 6969;

const CPUACCT = '/sys/fs/cgroup/cpuacct';

/**
 * CPU seconds of a process and everything it forks. in.tftpd forks a child per transfer
 * and never waits for it, so /proc's cutime misses them; a cgroup v1 cpuacct group (one
 * per server, and one for the clients) counts them all. Without cgroup v1, /proc fields
 * 14-17 (utime, stime, cutime, cstime) of the one process.
 */
class CpuMeter {
  private readonly group: string | null;
  constructor(name: string) {
    const group = join(CPUACCT, `kindling-bench-${process.pid}-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    try {
      mkdirSync(group);
      this.group = group;
    } catch {
      this.group = null;
    }
  }
  add(pid: number): void {
    if (this.group !== null) writeFileSync(join(this.group, 'cgroup.procs'), String(pid));
  }
  seconds(pid: number): number {
    if (this.group !== null) return Number(readFileSync(join(this.group, 'cpuacct.usage'), 'utf8')) / 1e9;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / CLK_TCK;
  }
  remove(): void {
    if (this.group === null) return;
    try {
      for (const pid of readFileSync(join(this.group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
        writeFileSync(join(CPUACCT, 'cgroup.procs'), pid);
      rmdirSync(this.group);
    } catch {
      // A process still exiting keeps the group for a moment; it is empty and harmless.
    }
  }
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function runClient(args: string[], meter: CpuMeter): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('atftp', args, { stdio: 'ignore' });
    meter.add(child.pid!);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

interface Server {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess;
  windowsize: boolean;
  cpu: CpuMeter;
}

function metered(s: Omit<Server, 'pid' | 'cpu'>): Server {
  const cpu = new CpuMeter(s.name);
  cpu.add(s.child.pid!);
  return { ...s, pid: s.child.pid!, cpu };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-bench-tftp-'));
  const root = join(dir, 'root');
  const out = join(dir, 'out');
  const servers: Server[] = [];
  const clientCpu = new CpuMeter('clients');
  try {
    await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(root), fs.mkdir(out)]));
    await chmod(dir, 0o755);
    await chmod(root, 0o755);
    const ipxe = '/usr/lib/ipxe/ipxe.efi';
    if (existsSync(ipxe)) await copyFile(ipxe, join(root, 'ipxe.efi'));
    else await writeRandomFile(join(root, 'ipxe.efi'), 1_000_000);
    await writeRandomFile(join(root, 'large.bin'), LARGE_BYTES);
    for (const f of ['ipxe.efi', 'large.bin']) await chmod(join(root, f), 0o644);
    const smallBytes = (await stat(join(root, 'ipxe.efi'))).size;

    const kindling = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'tftp-serve.ts'), JSON.stringify({ roots: [root] })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const kPort = await new Promise<number>((resolve, reject) => {
      createInterface({ input: kindling.stdout! }).on('line', (l) => {
        const m = /^PORT (\d+)/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      kindling.once('exit', () => reject(new Error('kindling exited')));
    });
    servers.push(metered({ name: 'Kindling', port: kPort, child: kindling, windowsize: true }));
    // MAIN_THREAD=1 is THREADS=0; THREADS=0,5 adds one Kindling per thread count.
    const variants = (process.env.THREADS ?? (process.env.MAIN_THREAD === '1' ? '0' : ''))
      .split(',')
      .filter((t) => t !== '')
      .map(Number);
    const extra: Server[] = [];
    for (const threads of variants) {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, 'tftp-serve.ts'),
          JSON.stringify({ roots: [root], transferThreads: threads }),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (l) => {
          const m = /^PORT (\d+)/.exec(l);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', () => reject(new Error(`kindling (${threads} threads) exited`)));
      });
      const name = threads === 0 ? 'Kindling, main thread only' : `Kindling, ${threads} threads`;
      extra.push(metered({ name, port, child, windowsize: true }));
    }
    const hpa = spawn(
      'in.tftpd',
      ['--foreground', '--address', `127.0.0.1:${HPA_PORT}`, '--secure', '--user', 'nobody', root],
      { stdio: 'inherit' },
    );
    servers.push(metered({ name: 'tftpd-hpa', port: HPA_PORT, child: hpa, windowsize: false }));
    const dnsmasq = spawn(
      'dnsmasq',
      [
        '--no-daemon',
        '--conf-file=/dev/null',
        '--port=0',
        '--enable-tftp',
        `--tftp-root=${root}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--user=root',
        '--pid-file=',
        '--tftp-max=512',
        '--log-facility=-',
        '--quiet-tftp',
      ],
      { stdio: 'ignore' },
    );
    servers.push(metered({ name: 'dnsmasq', port: 69, child: dnsmasq, windowsize: false }), ...extra);
    await new Promise((r) => setTimeout(r, 1000));

    const cases: Array<{
      label: string;
      file: string;
      bytes: number;
      clients: number;
      options: Record<string, string>;
    }> = [
      {
        label: `${SMALL_CLIENTS} x ipxe.efi, blksize 1468 + tsize`,
        file: 'ipxe.efi',
        bytes: smallBytes,
        clients: SMALL_CLIENTS,
        options: { blksize: '1468', tsize: '0' },
      },
      {
        label: `${SMALL_CLIENTS} x ipxe.efi, blksize 1468 + tsize + windowsize 4`,
        file: 'ipxe.efi',
        bytes: smallBytes,
        clients: SMALL_CLIENTS,
        options: { blksize: '1468', tsize: '0', windowsize: '4' },
      },
      {
        label: `${LARGE_CLIENTS} x 64 MiB, blksize 1468`,
        file: 'large.bin',
        bytes: LARGE_BYTES,
        clients: LARGE_CLIENTS,
        options: { blksize: '1468' },
      },
      {
        label: `${LARGE_CLIENTS} x 64 MiB, blksize 1468 + windowsize 16`,
        file: 'large.bin',
        bytes: LARGE_BYTES,
        clients: LARGE_CLIENTS,
        options: { blksize: '1468', windowsize: '16' },
      },
    ];
    const only = process.env.CASES?.split(',').map(Number);
    const runs = Number(process.env.RUNS ?? '1');
    const selected = cases
      .filter((_, i) => only === undefined || only.includes(i + 1))
      .flatMap((c) => Array.from({ length: runs }, () => c));
    const rows: string[] = [
      '| case | server | MB/s | ratio to tftpd-hpa | server CPU s | clients CPU s | failed |',
      '|---|---|---|---|---|---|---|',
    ];
    for (const c of selected) {
      let hpaRate = NaN;
      for (const s of [servers[1]!, servers[0]!, servers[2]!, ...servers.slice(3)]) {
        const cpu0 = s.cpu.seconds(s.pid);
        const clientCpu0 = clientCpu.seconds(process.pid);
        const t0 = process.hrtime.bigint();
        const codes = await Promise.all(
          Array.from({ length: c.clients }, (_, i) =>
            runClient(
              [
                '-g',
                '-r',
                c.file,
                '-l',
                join(out, `${s.name}-${i}`),
                ...Object.entries(c.options).flatMap(([k, v]) => ['--option', `${k} ${v}`]),
                '127.0.0.1',
                String(s.port),
              ],
              clientCpu,
            ),
          ),
        );
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        await new Promise((r) => setTimeout(r, 200));
        const cpu = s.cpu.seconds(s.pid) - cpu0;
        const clientsCpu = clientCpu.seconds(process.pid) - clientCpu0;
        let failed = codes.filter((x) => x !== 0).length;
        for (const f of await readdir(out)) {
          if ((await stat(join(out, f))).size !== c.bytes) failed++;
          await rm(join(out, f));
        }
        const rate = (c.bytes * c.clients) / seconds / 1e6;
        if (s.name === 'tftpd-hpa') hpaRate = rate;
        rows.push(
          `| ${c.label} ` +
            `| ${s.name}${c.options.windowsize && !s.windowsize ? ' (no windowsize: lock-step)' : ''} ` +
            `| ${rate.toFixed(1)} | ${(rate / hpaRate).toFixed(2)} | ${cpu.toFixed(2)} ` +
            `| ${clientsCpu.toFixed(2)} | ${failed} |`,
        );
        process.stderr.write(`${rows[rows.length - 1]}\n`);
      }
    }
    rows.push('', `Kindling peak RSS (VmHWM): ${peakRssMiB(servers[0]!.pid).toFixed(1)} MiB`);
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const meter of [clientCpu, ...servers.map((s) => s.cpu)]) meter.remove();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
