// Kindling's DHCP service against real clients (dhclient, busybox udhcpc) and a real
// dnsmasq, in namespaces this file creates and removes (docs/dhcp.md, "Tests").
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import {
  runDhclient,
  runPxeClient,
  runUdhcpc,
  setClientMac,
  startDnsmasq,
  sleep,
  startKindling,
  tempDir,
  type KindlingProcess,
} from './support/peers.js';

const enabled = canUseNetns();
const PXE_CONF = [
  'option pxe-arch code 93 = unsigned integer 16;',
  'send vendor-class-identifier "PXEClient:Arch:00007:UNDI:003016";',
  'send pxe-arch 7;',
].join('\n');

describe.skipIf(!enabled)('full mode with real clients', () => {
  let pair: NetnsPair;
  let kindling: KindlingProcess | null = null;
  let dataDir: string;
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');
  const dhcp = () => ({
    mode: 'auto',
    interface: pair.server.dev,
    range: { start: `${net()}.100`, end: `${net()}.150` },
    router: `${net()}.1`,
    dns: [`${net()}.1`],
    domain: 'rack.test',
    leaseSeconds: 600,
  });
  const reservations = () => ({ '52:54:00:47:51:e4': `${net()}.12` });

  beforeAll(async () => {
    pair = createNetnsPair();
    dataDir = tempDir('dhcp-data');
    kindling = await startKindling(pair, { dhcp: dhcp(), dataDir, reservations: reservations() });
  });
  afterAll(async () => {
    await kindling?.stop('SIGKILL');
    pair?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('probes, finds no other server and serves full DHCP', () => {
    expect(kindling!.ready).toMatchObject({
      configuredMode: 'auto',
      mode: 'full',
      reason: 'no-other-server',
      otherServers: [],
    });
  });

  it('gives dhclient a lease in the range with mask, router, DNS and domain', () => {
    setClientMac(pair, '52:54:00:00:10:01');
    const env = runDhclient(pair);
    expect(env).not.toBeNull();
    expect(env!.new_ip_address).toBe(`${net()}.100`);
    expect(env!.new_subnet_mask).toBe('255.255.255.0');
    expect(env!.new_routers).toBe(`${net()}.1`);
    expect(env!.new_domain_name_servers).toBe(`${net()}.1`);
    expect(env!.new_domain_name).toBe('rack.test');
    expect(env!.new_dhcp_lease_time).toBe('600');
  });

  it('gives busybox udhcpc a lease with mask, router and DNS', () => {
    setClientMac(pair, '52:54:00:00:10:02');
    const env = runUdhcpc(pair);
    expect(env).not.toBeNull();
    expect(env!.ip).toBe(`${net()}.101`);
    expect(env!.subnet).toBe('255.255.255.0');
    expect(env!.router).toBe(`${net()}.1`);
    expect(env!.dns?.trim()).toBe(`${net()}.1`);
  });

  it('gives a reserved MAC its reserved address', () => {
    setClientMac(pair, '52:54:00:47:51:e4');
    expect(runDhclient(pair)?.new_ip_address).toBe(`${net()}.12`);
  });

  it('gives a PXE UEFI client snponly.efi and next-server, and iPXE the boot.ipxe URL', async () => {
    setClientMac(pair, '52:54:00:00:10:07');
    const pxe = runDhclient(pair, { conf: PXE_CONF });
    expect(pxe?.new_filename).toBe('snponly.efi');
    expect(pxe?.new_ip_address).toBe(`${net()}.102`);
    const ipxe = runDhclient(pair, { conf: `${PXE_CONF}\nsend user-class "iPXE";` });
    expect(ipxe?.new_filename).toBe(`http://${pair.server.ip}:8080/boot.ipxe`);
    expect(ipxe?.new_ip_address).toBe(`${net()}.102`);
    // siaddr is what the firmware fetches from; udhcpc shows it.
    const u = runUdhcpc(pair, ['-V', 'PXEClient:Arch:00007:UNDI:003016', '-x', '0x5d:0007']);
    expect(u?.siaddr).toBe(pair.server.ip);
    expect(u?.boot_file).toBe('snponly.efi');
    await sleep(300); // the clients ran synchronously; let the child's stdout be read
    expect(kindling!.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          mac: '52:54:00:00:10:07',
          arch: 7,
          bootFile: 'snponly.efi',
          mode: 'full',
          ip: `${net()}.102`,
        }),
        expect.objectContaining({
          mac: '52:54:00:00:10:07',
          userClass: 'iPXE',
          bootFile: `http://${pair.server.ip}:8080/boot.ipxe`,
        }),
      ]),
    );
  });

  it('keeps leases across kill -9 and restart: same MAC, same address; nobody else gets it', async () => {
    await kindling!.stop('SIGKILL');
    kindling = await startKindling(pair, { dhcp: dhcp(), dataDir, reservations: reservations() });
    setClientMac(pair, '52:54:00:00:10:03');
    expect(runDhclient(pair)?.new_ip_address).toBe(`${net()}.103`);
    setClientMac(pair, '52:54:00:00:10:01');
    expect(runDhclient(pair)?.new_ip_address).toBe(`${net()}.100`);
  });
});

describe.skipIf(!enabled)('beside a real dnsmasq', () => {
  let pair: NetnsPair;
  const started: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
  const dirs: string[] = [];
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');

  beforeAll(() => {
    pair = createNetnsPair();
  });
  afterAll(async () => {
    for (const p of started) await p.stop('SIGKILL');
    pair?.destroy();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it(
    'proxy mode: dhclient gets its address from dnsmasq, a PXE ' + 'client its boot file from Kindling (67 and 4011)',
    async () => {
      const dnsmasq = startDnsmasq(pair, 'server', `${net()}.50,${net()}.60`);
      started.push(dnsmasq);
      const dataDir = tempDir('dhcp-proxy');
      dirs.push(dataDir);
      const k = await startKindling(pair, { dhcp: { mode: 'proxy', interface: pair.server.dev }, dataDir });
      started.push(k);
      expect(k.ready).toMatchObject({ mode: 'proxy', reason: 'configured-proxy' });
      setClientMac(pair, '52:54:00:00:20:01');
      const plain = runDhclient(pair);
      expect(plain?.new_ip_address).toMatch(new RegExp(`^${net().replace(/\./g, '\\.')}\\.(5\\d|60)$`));
      expect(plain?.new_filename ?? '').toBe('');

      const replies = runPxeClient(pair, {
        mac: '52:54:00:00:20:07',
        arch: 7,
        bootServer: pair.server.ip,
        listenMs: 4500,
      });
      const site = replies.find((r) => r.port === 68 && r.yiaddr !== '0.0.0.0');
      const proxy = replies.find((r) => r.port === 68 && r.yiaddr === '0.0.0.0');
      const boot = replies.find((r) => r.port === 4011);
      expect(site?.yiaddr).toMatch(new RegExp(`^${net().replace(/\./g, '\\.')}\\.(5\\d|60)$`));
      expect(proxy).toMatchObject({
        type: 2,
        file: 'snponly.efi',
        siaddr: pair.server.ip,
        vendorClass: 'PXEClient',
        option43: [6, 1, 8, 255],
      });
      expect(boot).toMatchObject({ type: 5, file: 'snponly.efi', yiaddr: '0.0.0.0' });
      await sleep(300);
      expect(k.events).toEqual([
        expect.objectContaining({ mac: '52:54:00:00:20:07', mode: 'proxy', ip: null, bootFile: 'snponly.efi' }),
      ]);
      await k.stop();
      await dnsmasq.stop();
    },
  );

  it('full mode where dnsmasq already serves: refuses to hand out addresses and says so', async () => {
    const dnsmasq = startDnsmasq(pair, 'client', `${net()}.50,${net()}.60`);
    started.push(dnsmasq);
    const dataDir = tempDir('dhcp-refuse');
    dirs.push(dataDir);
    const k = await startKindling(pair, {
      dhcp: { mode: 'full', interface: pair.server.dev, range: { start: `${net()}.100`, end: `${net()}.150` } },
      dataDir,
      probeTimeoutMs: 6000,
    });
    started.push(k);
    expect(k.ready).toMatchObject({
      configuredMode: 'full',
      mode: 'proxy',
      reason: 'other-server-seen',
      otherServers: [{ server: pair.client.ip, offered: expect.stringMatching(/^10\.200\./) }],
    });
    await k.stop();
    await dnsmasq.stop();
  });

  it('refuses at start a range outside the subnet, with the key and value', async () => {
    const dataDir = tempDir('dhcp-bad');
    dirs.push(dataDir);
    await expect(
      startKindling(pair, {
        dhcp: { mode: 'full', interface: pair.server.dev, range: { start: '10.99.0.100', end: '10.99.0.150' } },
        dataDir,
      }),
    ).rejects.toThrow(/dhcp.range.start 10.99.0.100 is outside the server's subnet/);
  });
});
