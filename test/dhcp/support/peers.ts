// Real DHCP peers for integration tests: ISC dhclient, busybox udhcpc, dnsmasq and
// Kindling itself, each inside a namespace of a NetnsPair, each bounded in time.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, chmodSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetnsPair } from '../../support/netns.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `kindling-${prefix}-`));
}

/** Sets the client interface's MAC so one namespace can play several machines. */
export function setClientMac(pair: NetnsPair, mac: string): void {
  pair.exec(pair.client.ns, 'ip', ['link', 'set', 'dev', pair.client.dev, 'address', mac]);
}

function envFromScript(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).replace(/^'|'$/g, '');
  }
  return out;
}

/** Runs `dhclient -1` once and returns the BOUND environment its script saw (new_ip_address, new_filename...). */
export function runDhclient(
  pair: NetnsPair,
  options: { conf?: string; timeoutSeconds?: number } = {},
): Record<string, string> | null {
  const dir = tempDir('dhclient');
  const script = path.join(dir, 'script.sh');
  writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|REBOOT|RENEW) env > "${dir}/bound.env";; esac\nexit 0\n`);
  chmodSync(script, 0o755);
  const conf = path.join(dir, 'dhclient.conf');
  writeFileSync(
    conf,
    `timeout ${options.timeoutSeconds ?? 10};\nretry 1;\ninitial-interval 1;\n${options.conf ?? ''}\n`,
  );
  try {
    pair.exec(
      pair.client.ns,
      'dhclient',
      [
        '-1',
        '-4',
        '-sf',
        script,
        '-cf',
        conf,
        '-lf',
        path.join(dir, 'leases'),
        '-pf',
        path.join(dir, 'dhclient.pid'),
        pair.client.dev,
      ],
      { timeoutMs: ((options.timeoutSeconds ?? 10) + 10) * 1000 },
    );
  } catch {
    /* no lease: bound.env is absent */
  } finally {
    // After a lease dhclient forks into the background and rewrites its pid file, so
    // the pid read right after the parent exits can be the parent's; the daemon then
    // writes its lease file while the directory is removed. Every process started
    // with this directory in its command line goes, and is waited for, first.
    killUntilGone(dir);
  }
  return readEnvAndClean(dir);
}

/** SIGKILLs every process whose command line mentions `pattern` and waits (at most 2 s) until none is left. */
function killUntilGone(pattern: string): void {
  const deadline = Date.now() + 2000;
  for (;;) {
    const pids = pgrep(pattern);
    if (pids.length === 0 || Date.now() > deadline) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    execFileSync('sleep', ['0.05']);
  }
}

function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function readEnvAndClean(dir: string): Record<string, string> | null {
  const env = path.join(dir, 'bound.env');
  try {
    return existsSync(env) ? envFromScript(env) : null;
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}

/** Runs busybox udhcpc once (-q: quit after the lease) and returns the env its script saw on `bound`. */
export function runUdhcpc(pair: NetnsPair, extraArgs: string[] = []): Record<string, string> | null {
  const dir = tempDir('udhcpc');
  const script = path.join(dir, 'script.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > "${dir}/bound.env"\nexit 0\n`);
  chmodSync(script, 0o755);
  try {
    pair.exec(
      pair.client.ns,
      'udhcpc',
      ['-i', pair.client.dev, '-f', '-q', '-n', '-t', '5', '-T', '1', '-A', '1', '-s', script, ...extraArgs],
      { timeoutMs: 20_000 },
    );
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return readEnvAndClean(dir);
}

export interface PxeReply {
  port: number;
  from: string;
  type: number | null;
  yiaddr: string;
  siaddr: string;
  file: string;
  serverId: string | null;
  vendorClass: string | null;
  option43: number[] | null;
}

export function runPxeClient(
  pair: NetnsPair,
  options: { mac: string; arch: number; userClass?: string; listenMs?: number; bootServer?: string },
): PxeReply[] {
  const input = JSON.stringify({ clientIp: pair.client.ip, listenMs: 2000, ...options });
  const out = pair.exec(
    pair.client.ns,
    process.execPath,
    ['--import', 'tsx', path.join(here, 'pxe-client.ts'), input],
    { timeoutMs: 20_000 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as PxeReply[];
}

export interface KindlingProcess {
  child: ChildProcess;
  ready: Record<string, unknown>;
  /** The last `STATUS` line (the child prints one on SIGUSR2). */
  status: Record<string, unknown> | null;
  events: Array<Record<string, unknown>>;
  /** The last 4000 characters of its stderr (pino lines at KINDLING_LOG or warn). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the DHCP service in the server namespace; resolves on READY, rejects on FAILED or after 20 s. */
export function startKindling(
  pair: NetnsPair,
  input: {
    dhcp: Record<string, unknown>;
    dataDir: string;
    reservations?: Record<string, string>;
    probeTimeoutMs?: number;
  },
): Promise<KindlingProcess> {
  const child = pair.spawn(pair.server.ns, process.execPath, [
    '--import',
    'tsx',
    path.join(here, 'server-process.ts'),
    JSON.stringify({ serverIp: pair.server.ip, ...input }),
  ]);
  const events: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: KindlingProcess = {
    child,
    ready: {},
    status: null,
    events,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Kindling DHCP did not start in 20 s: ${stderr}`));
    }, 20_000);
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('EVENT ')) events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
        else if (line.startsWith('STATUS ')) proc.status = JSON.parse(line.slice(7)) as Record<string, unknown>;
        else if (line.startsWith('READY ')) {
          clearTimeout(timer);
          proc.ready = JSON.parse(line.slice(6)) as Record<string, unknown>;
          resolve(proc);
        } else if (line.startsWith('FAILED ')) {
          clearTimeout(timer);
          reject(new Error(line.slice(7)));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Kindling DHCP exited with ${code} before READY: ${stderr}`));
    });
  });
}

/** dnsmasq as the site's DHCP server, bound to one interface (--bind-interfaces) so it shares port 67. */
export function startDnsmasq(
  pair: NetnsPair,
  side: 'server' | 'client',
  range: string,
  extra: readonly string[] = [],
  mask = '255.255.255.0',
): { child: ChildProcess; stop(): Promise<void> } {
  const dir = tempDir('dnsmasq');
  const host = pair[side];
  const child = pair.spawn(host.ns, 'dnsmasq', [
    '--no-daemon',
    '--port=0',
    '--conf-file=/dev/null',
    `--interface=${host.dev}`,
    '--bind-interfaces',
    `--dhcp-range=${range},${mask},1h`,
    `--dhcp-leasefile=${dir}/leases`,
    `--pid-file=${dir}/pid`,
    ...(extra.length ? extra : ['--log-dhcp']),
  ]);
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
