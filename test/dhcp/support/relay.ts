// A routed rack for relay tests, three namespaces in a line, all made and removed here:
//
//   client ns  --veth--  relay ns (ISC dhcrelay)  --veth--  Kindling ns
//   no address           10.202.N.1 | 10.200.N.2             10.200.N.1
//
// The Kindling namespace routes 10.202.N.0/24 via the relay, as a site's router would,
// so replies to giaddr reach dhcrelay. Nothing leaves these namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createNetnsPair, killAllIn, type NetnsPair } from '../../support/netns.js';
import { tempDir } from './peers.js';

export interface RelayedRack {
  /** server: Kindling's namespace; client: the relay's upstream side. */
  upstream: NetnsPair;
  /**
   * server: the relay's downstream side (giaddr); client: the client namespace (no address). Usable with runDhclient.
   */
  downstream: NetnsPair;
  /** The relayed network, e.g. 10.202.7 (a /24). */
  relayedNet: string;
  /** The relay's address on the client network: the giaddr it puts in requests. */
  giaddr: string;
  destroy(): void;
}

export function createRelayedRack(): RelayedRack {
  const upstream = createNetnsPair();
  const octet = upstream.server.ip.split('.')[2]!;
  const relayedNet = `10.202.${octet}`;
  const suffix = upstream.client.ns.slice(3);
  const clientNs = `klr${suffix}`;
  const relayDev = `vr${suffix}`.slice(0, 15);
  const clientDev = `vd${suffix}`.slice(0, 15);
  const run = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const destroy = () => {
    killAllIn(clientNs);
    try {
      run(['netns', 'del', clientNs]);
    } catch {
      /* already gone */
    }
    upstream.destroy();
  };
  try {
    run(['netns', 'add', clientNs]);
    run([
      'link',
      'add',
      relayDev,
      'netns',
      upstream.client.ns,
      'type',
      'veth',
      'peer',
      'name',
      clientDev,
      'netns',
      clientNs,
    ]);
    run(['-n', clientNs, 'link', 'set', 'lo', 'up']);
    run(['-n', clientNs, 'link', 'set', clientDev, 'up']);
    run(['-n', upstream.client.ns, 'link', 'set', relayDev, 'up']);
    run(['-n', upstream.client.ns, 'addr', 'add', `${relayedNet}.1/24`, 'dev', relayDev]);
    run(['-n', upstream.server.ns, 'route', 'add', `${relayedNet}.0/24`, 'via', upstream.client.ip]);
  } catch (err) {
    destroy();
    throw err;
  }
  const downstream: NetnsPair = {
    server: { ns: upstream.client.ns, dev: relayDev, ip: `${relayedNet}.1` },
    client: { ns: clientNs, dev: clientDev, ip: '' },
    subnet: `${relayedNet}.0/24`,
    exec: upstream.exec,
    spawn: upstream.spawn,
    destroy,
  };
  return { upstream, downstream, relayedNet, giaddr: `${relayedNet}.1`, destroy };
}

/**
 * ISC dhcrelay in the relay namespace, in the foreground: requests from the client
 * side go to `server` with giaddr set and (with `-a`) option 82 added; replies come
 * back to port 67 and go on to the client. Resolves once it is listening (10 s at most).
 */
export async function startDhcrelay(
  rack: RelayedRack,
  server: string,
): Promise<{ child: ChildProcess; output(): string; stop(): Promise<void> }> {
  const dir = tempDir('dhcrelay');
  const ns = rack.downstream.server.ns;
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'dhcrelay',
      '-4',
      '-d',
      '-a',
      '-pf',
      path.join(dir, 'pid'),
      '-id',
      rack.downstream.server.dev,
      '-iu',
      rack.upstream.client.dev,
      server,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!/Sending on\s+Socket/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`dhcrelay did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, stop };
}
