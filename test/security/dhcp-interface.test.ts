// DHCP must answer only on `dhcp.interface` (docs/dhcp.md). Kindling's namespace has two
// links, like a Pi with its rack NIC and Wi-Fi on the office LAN: the rack one is
// dhcp.interface, the office one is not. A real udhcpc and a PXE client on each side
// ask; only the rack side gets anything, and Kindling keeps no trace of the office.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { openDeviceSocket } from '../../src/dhcp/device-socket.js';
import { startDhcpServer } from '../../src/dhcp/index.js';
import { FakeInventory, silent } from '../dhcp/support/fakes.js';
import {
  runPxeClient,
  runUdhcpc,
  setClientMac,
  sleep,
  startKindling,
  tempDir,
  type KindlingProcess,
} from '../dhcp/support/peers.js';
import { canUseNetns, createNetnsPair, killAllIn, type NetnsPair } from '../support/netns.js';

const OFFICE_PXE_MAC = '52:54:00:0f:f1:ce';
const OFFICE_MAC = '52:54:00:0f:f1:c0';
const RACK_MAC = '52:54:00:4a:c0:01';

/** The rack pair, plus an office namespace joined to Kindling's by a second veth link. */
interface Site {
  rack: NetnsPair;
  office: NetnsPair;
  destroy(): void;
}

function createSite(): Site {
  const rack = createNetnsPair();
  const id = `${process.pid % 10000}${randomBytes(2).toString('hex')}`;
  const octet = (Number(rack.server.ip.split('.')[2]) % 250) + 1;
  const ns = `kdo${id}`;
  const kindlingDev = `vko${id}`.slice(0, 15);
  const clientDev = `vco${id}`.slice(0, 15);
  const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const destroy = () => {
    killAllIn(ns);
    try {
      ip(['netns', 'del', ns]);
    } catch {
      /* never made */
    }
    rack.destroy();
  };
  try {
    ip(['netns', 'add', ns]);
    ip(['link', 'add', kindlingDev, 'netns', rack.server.ns, 'type', 'veth', 'peer', 'name', clientDev, 'netns', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const [n, dev, addr] of [
      [rack.server.ns, kindlingDev, `10.200.${octet}.1`],
      [ns, clientDev, `10.200.${octet}.2`],
    ] as const) {
      ip(['-n', n, 'link', 'set', dev, 'up']);
      ip(['-n', n, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  const office: NetnsPair = {
    ...rack,
    server: { ns: rack.server.ns, dev: kindlingDev, ip: `10.200.${octet}.1` },
    client: { ns, dev: clientDev, ip: `10.200.${octet}.2` },
    subnet: `10.200.${octet}.0/24`,
  };
  return { rack, office, destroy };
}

/** Asks the Kindling child for its status (SIGUSR2) and waits at most 3 s for it. */
async function statusOf(k: KindlingProcess): Promise<Record<string, unknown>> {
  k.status = null;
  k.child.kill('SIGUSR2');
  for (let i = 0; i < 30 && k.status === null; i++) await sleep(100);
  if (k.status === null) throw new Error(`no STATUS line: ${k.stderr()}`);
  return k.status;
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l));

describe.skipIf(!canUseNetns())('DHCP answers on dhcp.interface only', () => {
  let site: Site;
  let dataDir: string;
  let kindling: KindlingProcess | null = null;
  const net = () => site.rack.server.ip.split('.').slice(0, 3).join('.');
  const dhcp = (iface: string | null) => ({
    mode: 'full',
    interface: iface,
    range: { start: `${net()}.100`, end: `${net()}.150` },
    router: `${net()}.1`,
    dns: [`${net()}.1`],
  });

  beforeAll(() => {
    site = createSite();
    dataDir = tempDir('dhcp-interface');
  });
  afterAll(async () => {
    await kindling?.stop('SIGKILL');
    site?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives the rack client a lease and the office clients nothing, and records nothing for them', async () => {
    kindling = await startKindling(site.rack, { dhcp: dhcp(site.rack.server.dev), dataDir, probeTimeoutMs: 1000 });
    expect(kindling.ready).toMatchObject({ mode: 'full' });

    setClientMac(site.office, OFFICE_MAC);
    expect(runUdhcpc(site.office)).toBeNull();
    expect(runPxeClient(site.office, { mac: OFFICE_PXE_MAC, arch: 7 })).toEqual([]);

    setClientMac(site.rack, RACK_MAC);
    const lease = runUdhcpc(site.rack);
    expect(lease?.ip).toBe(`${net()}.100`);

    await sleep(300); // the clients ran synchronously; let the child's stdout be read
    // Had the office DISCOVERs reached Kindling, they would hold offers (the pool is
    // shared) and the PXE one would be a boot offer in the inventory.
    expect(await statusOf(kindling)).toMatchObject({ leases: 1, pendingOffers: 0, dropped: 0, handlerFailures: 0 });
    expect(kindling.events.map((e) => e.mac)).not.toContain(OFFICE_PXE_MAC);
    expect(warnings(kindling.stderr())).toEqual([]);
    await kindling.stop();
    kindling = null;
  });

  it('with dhcp.interface unset, still answers everywhere and warns once, naming the key', async () => {
    rmSync(dataDir, { recursive: true, force: true });
    kindling = await startKindling(site.rack, { dhcp: dhcp(null), dataDir, probeTimeoutMs: 1000 });
    const lines = warnings(kindling.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/dhcp.interface is not set, so DHCP answers broadcasts arriving on every interface/);

    // The office PXE client is heard (its offer leaves on the rack link, so it sees none).
    runPxeClient(site.office, { mac: OFFICE_PXE_MAC, arch: 7 });
    await sleep(300);
    expect(kindling.events.map((e) => e.mac)).toContain(OFFICE_PXE_MAC);
    expect(warnings(kindling.stderr())).toHaveLength(1);
    await kindling.stop();
    kindling = null;
  });

  it('refuses to start when dhcp.interface does not exist, listing the interfaces there are', async () => {
    const start = startKindling(site.rack, { dhcp: dhcp('nosuch0'), dataDir, probeTimeoutMs: 1000 });
    await expect(start).rejects.toThrow(/"code":"DHCP_INTERFACE_UNKNOWN"/);
    const message = await start.catch((err: Error) => err.message);
    expect(message).toMatch(
      /dhcp.interface \\"nosuch0\\" is not a network interface of this machine; expected one of: /,
    );
    expect(message).toContain(site.rack.server.dev);
    expect(message).toContain(site.office.server.dev);
  });
});

describe('dhcp.interface checks before any socket', () => {
  it('gives DHCP_INTERFACE_UNKNOWN for an interface that does not exist', async () => {
    const config = configSchema.parse({ dhcp: { mode: 'proxy', interface: 'nosuch0' } }).dhcp;
    await expect(
      startDhcpServer({
        config,
        serverIp: '10.77.0.2',
        httpBaseUrl: 'http://10.77.0.2',
        dataDir: '/nonexistent',
        logger: silent,
        inventory: new FakeInventory(),
      }),
    ).rejects.toMatchObject({
      code: 'DHCP_INTERFACE_UNKNOWN',
      message: expect.stringMatching(
        /^dhcp.interface "nosuch0" is not a network interface of this machine; expected one of: .*lo/,
      ),
    });
  });

  it('reports the kernel refusing the device binding as DHCP_SOCKET with the key and the reason', async () => {
    await expect(openDeviceSocket(0, 'nosuch0')).rejects.toMatchObject({
      code: 'DHCP_SOCKET',
      message: 'cannot bind UDP port 0 to dhcp.interface nosuch0: SO_BINDTODEVICE nosuch0: No such device',
    });
  });

  it('refuses an interface name the kernel could not have, naming the key', () => {
    const parsed = configSchema.safeParse({ dhcp: { interface: 'eth0/../x' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['dhcp', 'interface'],
      message: expect.stringMatching(/network interface name/),
    });
  });
});
