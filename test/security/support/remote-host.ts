import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { killAllIn } from '../../support/netns.js';

// "Another host on the rack network" for a Kindling running in the test process: a
// namespace joined to this one by a veth pair, so its requests arrive from a
// non-loopback address. Addresses are a /30 in 10.203.N.0, used by no other test.

export interface RemoteHost {
  /** The address on this namespace's end: Kindling listens here. */
  localIp: string;
  /** The address the remote host's requests come from. */
  remoteIp: string;
  /** curl inside the remote host's namespace; resolves to its stdout. Never sync: Kindling runs in this process. */
  curl(args: string[]): Promise<string>;
  destroy(): void;
}

const run = promisify(execFile);
let counter = 0;

export function createRemoteHost(): RemoteHost {
  const id = `${process.pid % 10000}${randomBytes(2).toString('hex')}${counter++}`;
  const octet = 1 + (Number.parseInt(id.slice(-4), 16) % 250);
  const ns = `klr${id}`;
  const localDev = `vrl${id}`.slice(0, 15);
  const remoteDev = `vrr${id}`.slice(0, 15);
  const localIp = `10.203.${octet}.1`;
  const remoteIp = `10.203.${octet}.2`;
  const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const destroy = () => {
    killAllIn(ns);
    try {
      ip(['netns', 'del', ns]); // takes the veth pair, and so this end's address, with it
    } catch {
      /* already gone */
    }
  };
  try {
    ip(['netns', 'add', ns]);
    ip(['link', 'add', localDev, 'type', 'veth', 'peer', 'name', remoteDev, 'netns', ns]);
    ip(['addr', 'add', `${localIp}/30`, 'dev', localDev]);
    ip(['link', 'set', localDev, 'up']);
    ip(['-n', ns, 'addr', 'add', `${remoteIp}/30`, 'dev', remoteDev]);
    ip(['-n', ns, 'link', 'set', remoteDev, 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    localIp,
    remoteIp,
    curl: async (args) =>
      (
        await run('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '10', ...args], {
          encoding: 'utf8',
          timeout: 20_000,
        })
      ).stdout,
    destroy,
  };
}
