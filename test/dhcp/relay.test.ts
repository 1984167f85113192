// Kindling behind a real DHCP relay (ISC dhcrelay, Debian isc-dhcp-relay): dhclient on
// a routed network two hops away gets an address from dhcp.relayPools, with that
// pool's router. Namespaces are created and removed by this file (support/relay.ts).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns } from '../support/netns.js';
import { runDhclient, setClientMac, sleep, startKindling, tempDir, type KindlingProcess } from './support/peers.js';
import { createRelayedRack, startDhcrelay, type RelayedRack } from './support/relay.js';

function hasDhcrelay(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v dhcrelay && command -v dhclient'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const enabled = canUseNetns() && hasDhcrelay();

describe.skipIf(!enabled)('behind a real relay (dhcrelay)', () => {
  let rack: RelayedRack;
  let relay: Awaited<ReturnType<typeof startDhcrelay>> | null = null;
  let kindling: KindlingProcess | null = null;
  let dataDir: string;
  const local = () => rack.upstream.server.ip.split('.').slice(0, 3).join('.');
  const dhcp = (withRelayPool: boolean) => ({
    mode: 'full',
    interface: rack.upstream.server.dev,
    range: { start: `${local()}.100`, end: `${local()}.150` },
    router: `${local()}.2`,
    dns: [`${local()}.1`],
    domain: 'rack.test',
    leaseSeconds: 600,
    relayPools: withRelayPool
      ? [
          {
            range: { start: `${rack.relayedNet}.100`, end: `${rack.relayedNet}.150` },
            subnetMask: '255.255.255.0',
            router: rack.giaddr,
            dns: [`${rack.relayedNet}.53`],
            domain: 'rack2.test',
            leaseSeconds: 900,
          },
        ]
      : [],
  });

  beforeAll(async () => {
    rack = createRelayedRack();
    dataDir = tempDir('dhcp-relay');
    relay = await startDhcrelay(rack, rack.upstream.server.ip);
  });
  afterAll(async () => {
    await kindling?.stop('SIGKILL');
    await relay?.stop();
    rack?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('drops requests relayed from a network without a pool, with one log line for several packets', async () => {
    kindling = await startKindling(rack.upstream, { dhcp: dhcp(false), dataDir, probeTimeoutMs: 500 });
    expect(kindling.ready).toMatchObject({ mode: 'full' });
    setClientMac(rack.downstream, '52:54:00:00:30:01');
    expect(runDhclient(rack.downstream, { timeoutSeconds: 5 })).toBeNull();
    await sleep(300); // dhclient ran synchronously; let the children's output be read
    // dhclient sent several DISCOVERs; the relay forwarded each with giaddr set.
    expect((relay!.output().match(/Forwarded BOOTREQUEST/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const lines = kindling
      .stderr()
      .split('\n')
      .filter((l) => l.includes('no pool'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ giaddr: rack.giaddr, level: 40 });
    await kindling.stop('SIGKILL');
    kindling = null;
  });

  it(
    'gives dhclient behind the relay an address from the relay ' + 'pool, with its router, mask, DNS and domain',
    async () => {
      await kindling?.stop('SIGKILL');
      kindling = await startKindling(rack.upstream, { dhcp: dhcp(true), dataDir, probeTimeoutMs: 500 });
      setClientMac(rack.downstream, '52:54:00:00:30:02');
      const env = runDhclient(rack.downstream);
      expect(env).not.toBeNull();
      expect(env!.new_ip_address).toBe(`${rack.relayedNet}.100`);
      expect(env!.new_routers).toBe(rack.giaddr);
      expect(env!.new_subnet_mask).toBe('255.255.255.0');
      expect(env!.new_domain_name_servers).toBe(`${rack.relayedNet}.53`);
      expect(env!.new_domain_name).toBe('rack2.test');
      expect(env!.new_dhcp_lease_time).toBe('900');
      expect(env!.new_dhcp_server_identifier).toBe(rack.upstream.server.ip);
      // dhcrelay -a added option 82; it finds the client's interface from the circuit id
      // Kindling echoed, strips the option and forwards the reply.
      await sleep(300);
      expect(relay!.output()).toMatch(/Forwarded BOOTREPLY for 52:54:00:00:30:02/);
    },
  );

  it('keeps the relayed lease across kill -9 and restart; the next machine gets the next address', async () => {
    await kindling!.stop('SIGKILL');
    kindling = await startKindling(rack.upstream, { dhcp: dhcp(true), dataDir, probeTimeoutMs: 500 });
    setClientMac(rack.downstream, '52:54:00:00:30:03');
    expect(runDhclient(rack.downstream)?.new_ip_address).toBe(`${rack.relayedNet}.101`);
    setClientMac(rack.downstream, '52:54:00:00:30:02');
    expect(runDhclient(rack.downstream)?.new_ip_address).toBe(`${rack.relayedNet}.100`);
  });
});
