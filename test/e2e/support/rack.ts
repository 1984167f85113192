import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { killAllIn } from '../../support/netns.js';

// The rack's network, made by the test and removed by it (docs/decisions.md, "The rack in a box"):
//
//   namespace SERVER: Kindling on `eth0` (10.210.N.1/24), the fake upstream on its loopback
//       | veth
//   namespace RACK: bridge `br0` <- `up0` (the veth's other end), one tap per VM,
//                   QEMU processes; optionally `dh0` <- a third namespace with dnsmasq
//
// Addresses exist only inside these namespaces; nothing is routed anywhere else.

const run = promisify(execFile);

export interface Rack {
  id: string;
  subnet: string;
  /** Kindling's address, on the server namespace's eth0. */
  serverIp: string;
  serverNs: string;
  rackNs: string;
  /** Made by addSiteDhcp(): the site's own DHCP server's namespace and address. */
  siteNs: string | null;
  siteIp: string;
  addTap(name: string): void;
  /** A namespace on the bridge for the site's DHCP server (proxy-mode runs). */
  addSiteDhcp(): void;
  /** Starts a process inside a namespace; it dies with the namespace at destroy(). */
  spawn(ns: string, cmd: string, args: string[], options?: { stdio?: 'pipe' | 'ignore' }): ChildProcess;
  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  destroy(): void;
}

const live = new Set<Rack>();
let hooked = false;

/**
 * Removes every rack still alive: on process exit and on SIGINT/SIGTERM too, so a failing or interrupted run leaves
 * nothing.
 */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const all = () => {
    for (const rack of live) rack.destroy();
  };
  process.on('exit', all);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      all();
      process.exit(130);
    });
  }
}

export function createRack(options: { octet?: number } = {}): Rack {
  hookExit();
  const id = `${(process.pid % 1000).toString(36)}${randomBytes(2).toString('hex')}`;
  const octet = options.octet ?? 1 + ((randomBytes(1)[0] as number) % 250);
  const serverNs = `ke2s${id}`;
  const rackNs = `ke2r${id}`;
  const siteNs = `ke2d${id}`;
  const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const namespaces = [serverNs, rackNs];
  let destroyed = false;
  const rack: Rack = {
    id,
    subnet: `10.210.${octet}.0/24`,
    serverIp: `10.210.${octet}.1`,
    serverNs,
    rackNs,
    siteNs: null,
    siteIp: `10.210.${octet}.2`,
    addTap(name) {
      ip(['-n', rackNs, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
      ip(['-n', rackNs, 'link', 'set', name, 'master', 'br0', 'up']);
    },
    addSiteDhcp() {
      ip(['netns', 'add', siteNs]);
      namespaces.push(siteNs);
      ip(['link', 'add', 'eth0', 'netns', siteNs, 'type', 'veth', 'peer', 'name', 'dh0', 'netns', rackNs]);
      ip(['-n', rackNs, 'link', 'set', 'dh0', 'master', 'br0', 'up']);
      ip(['-n', siteNs, 'link', 'set', 'lo', 'up']);
      ip(['-n', siteNs, 'addr', 'add', `${rack.siteIp}/24`, 'dev', 'eth0']);
      ip(['-n', siteNs, 'link', 'set', 'eth0', 'up']);
      rack.siteNs = siteNs;
    },
    spawn(ns, cmd, args, o = {}) {
      return spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
        stdio: o.stdio === 'ignore' ? 'ignore' : ['ignore', 'pipe', 'pipe'],
      });
    },
    async exec(ns, cmd, args, timeoutMs = 30_000) {
      const { stdout } = await run('ip', ['netns', 'exec', ns, cmd, ...args], {
        timeout: timeoutMs,
        maxBuffer: 16 << 20,
      });
      return stdout;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(rack);
      // Everything started inside goes first: QEMU, Kindling, dnsmasq, the upstream.
      for (const ns of namespaces) killAllIn(ns);
      for (const ns of namespaces) {
        try {
          ip(['netns', 'del', ns]); // takes its veths, taps and bridge with it
        } catch {
          /* already gone */
        }
      }
    },
  };
  live.add(rack);
  try {
    ip(['netns', 'add', serverNs]);
    ip(['netns', 'add', rackNs]);
    ip(['link', 'add', 'eth0', 'netns', serverNs, 'type', 'veth', 'peer', 'name', 'up0', 'netns', rackNs]);
    ip(['-n', serverNs, 'link', 'set', 'lo', 'up']);
    ip(['-n', serverNs, 'addr', 'add', `${rack.serverIp}/24`, 'dev', 'eth0']);
    ip(['-n', serverNs, 'link', 'set', 'eth0', 'up']);
    ip(['-n', rackNs, 'link', 'set', 'lo', 'up']);
    // No STP and no forwarding delay: ports forward as soon as they are up.
    ip(['-n', rackNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    ip(['-n', rackNs, 'link', 'set', 'br0', 'up']);
    ip(['-n', rackNs, 'link', 'set', 'up0', 'master', 'br0', 'up']);
  } catch (err) {
    rack.destroy();
    throw err;
  }
  return rack;
}

/** Root, `ip netns` and the tools the rack needs; the reason when not. */
export function rackUnavailable(tools: string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and taps';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'ip netns does not work here';
  }
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (bash .ci/run installs it)`;
    }
  }
  return null;
}
