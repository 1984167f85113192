import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

// Test hosts on one machine: a network namespace pair joined by a veth link, made by
// the test and removed by it, so nothing touches the host's own network. Addresses are in 10.200.x.0/24,
// which exists only inside these namespaces.

export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface NetnsPair {
  /** Namespace of the server side and its interface and address. */
  server: { ns: string; dev: string; ip: string };
  client: { ns: string; dev: string; ip: string };
  subnet: string;
  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[], options?: { timeoutMs?: number; input?: string }): string;
  /** Starts a long-running process inside a namespace. */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess;
  destroy(): void;
}

let counter = 0;

/** SIGKILLs every process inside a namespace; a namespace already gone is fine. */
export function killAllIn(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .forEach((pid) => {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      });
  } catch {
    /* no such namespace */
  }
}

/** Creates two namespaces joined by a veth pair; `octet` picks 10.200.OCTET.0/24. */
export function createNetnsPair(options: { octet?: number; clientIp?: string | null } = {}): NetnsPair {
  const id = `${process.pid % 10000}${randomBytes(2).toString('hex')}${counter++}`;
  const octet = options.octet ?? 1 + (Number.parseInt(id.slice(-4), 16) % 250);
  const server = { ns: `kls${id}`, dev: `vs${id}`.slice(0, 15), ip: `10.200.${octet}.1` };
  const client = {
    ns: `klc${id}`,
    dev: `vc${id}`.slice(0, 15),
    ip: options.clientIp === null ? '' : (options.clientIp ?? `10.200.${octet}.2`),
  };
  const run = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const destroy = () => {
    for (const ns of [server.ns, client.ns]) {
      try {
        killAllIn(ns); // anything left inside goes before the namespace does
        run(['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    run(['netns', 'add', server.ns]);
    run(['netns', 'add', client.ns]);
    run([
      'link',
      'add',
      server.dev,
      'netns',
      server.ns,
      'type',
      'veth',
      'peer',
      'name',
      client.dev,
      'netns',
      client.ns,
    ]);
    for (const side of [server, client]) {
      run(['-n', side.ns, 'link', 'set', 'lo', 'up']);
      run(['-n', side.ns, 'link', 'set', side.dev, 'up']);
      if (side.ip) run(['-n', side.ns, 'addr', 'add', `${side.ip}/24`, 'dev', side.dev]);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    server,
    client,
    subnet: `10.200.${octet}.0/24`,
    exec: (ns, cmd, args, o = {}) =>
      execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
        encoding: 'utf8',
        timeout: o.timeoutMs ?? 30_000,
        input: o.input,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    spawn: (ns, cmd, args) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    destroy,
  };
}
