// The network from the page, against a real Kindling inside a network namespace: its
// DHCP side on a veth interface, a real dnsmasq on the other end as the site's server.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsmasq } from '../dhcp/support/peers.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { startNetnsKindling, type NetnsKindling } from '../support/netns-kindling.js';
import type { Health, NetworkSaved, NetworkView, ErrorAnswer } from '../../src/api-client/types.js';

const enabled = canUseNetns();
type Refusal = ErrorAnswer & {
  error: {
    details: {
      problems?: Array<{ key: string; value: unknown; expected: string }>;
      servers?: Array<{ server: string; offered: string }>;
    };
  };
};
const dhcpOf = (h: Health) => h.services.find((s) => s.name === 'dhcp');

describe.skipIf(!enabled)('network settings from the admin API', () => {
  let pair: NetnsPair;
  let k: NetnsKindling;
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');

  beforeAll(async () => {
    pair = createNetnsPair();
    k = await startNetnsKindling(pair, {
      config: {
        dhcp: {
          mode: 'full',
          interface: pair.server.dev,
          range: { start: `${net()}.100`, end: `${net()}.150` },
          router: `${net()}.1`,
          dns: [`${net()}.1`],
        },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    pair?.destroy();
  });

  it('recommends full mode when Kindling serves full DHCP (the old prose rule said proxy)', async () => {
    const { body } = await k.api<NetworkView>('GET', '/api/setup/network');
    expect(body.dhcp.service?.dhcp).toMatchObject({ mode: 'full', reason: 'no-other-server', otherServers: [] });
    expect(body.recommendation).toMatchObject({ mode: 'full', reason: 'no-other-server' });
  });

  it(
    'refuses a range outside the interface subnet, naming the key, the ' +
      'value and what was expected; the file is unchanged',
    async () => {
      const before = readFileSync(k.configFile, 'utf8');
      const r = await k.api<Refusal>('PUT', '/api/settings/network', {
        dhcp: { range: { start: '10.99.0.10', end: `${net()}.150` } },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('NETWORK_INVALID');
      expect(r.body.error.details.problems).toEqual([
        {
          key: 'dhcp.range.start',
          value: '10.99.0.10',
          expected: `an address in ${net()}.0/24`,
          message: expect.stringContaining(`outside the subnet of ${pair.server.dev}`),
        },
      ]);
      expect(readFileSync(k.configFile, 'utf8')).toBe(before);
    },
  );

  it(
    'refuses start after end, a router outside the subnet, a bad ' + 'address and an unknown interface, each by key',
    async () => {
      const keys = async (dhcp: Record<string, unknown>) =>
        ((await k.api<Refusal>('PUT', '/api/settings/network', { dhcp })).body.error.details.problems ?? []).map(
          (p) => p.key,
        );
      expect(await keys({ range: { start: `${net()}.150`, end: `${net()}.100` } })).toEqual(['dhcp.range']);
      expect(await keys({ router: '192.168.1.1' })).toEqual(['dhcp.router']);
      expect(await keys({ dns: ['10.0.0.1', '10.0.0.300'] })).toEqual(['dhcp.dns[1]']);
      expect(await keys({ interface: 'nosuch0' })).toEqual(['dhcp.interface']);
    },
  );

  it(
    'applies a good range at once: /healthz shows it from the same ' +
      'process, kindling.yaml has it with its comment kept',
    async () => {
      const r = await k.api<NetworkSaved>('PUT', '/api/settings/network', {
        dhcp: { range: { start: `${net()}.160`, end: `${net()}.200` } },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ changed: ['dhcp.range.start', 'dhcp.range.end'], restartNeeded: [] });
      const health = await k.api<Health>('GET', '/healthz');
      expect(dhcpOf(health.body)).toMatchObject({
        state: 'running',
        dhcp: { mode: 'full', range: { start: `${net()}.160`, end: `${net()}.200` } },
      });
      const yaml = readFileSync(k.configFile, 'utf8');
      expect(yaml).toContain('# Written by test/support/kindling.ts');
      expect(yaml).toMatch(new RegExp(`start: ${net().replace(/\./g, '\\.')}\\.160`));
      expect(k.pid).toBeGreaterThan(0);
      expect(
        (await k.api<{ settings: { dhcp: { range: unknown } } }>('GET', '/api/settings/network')).body.settings.dhcp
          .range,
      ).toEqual({ start: `${net()}.160`, end: `${net()}.200` });
    },
  );

  it('goes from full to proxy and back without a restart', async () => {
    expect((await k.api('PUT', '/api/settings/network', { dhcp: { mode: 'proxy' } })).status).toBe(200);
    expect(dhcpOf((await k.api<Health>('GET', '/healthz')).body)?.dhcp).toMatchObject({
      mode: 'proxy',
      reason: 'configured-proxy',
      range: null,
    });
    expect((await k.api('PUT', '/api/settings/network', { dhcp: { mode: 'full' } })).status).toBe(200);
    expect(dhcpOf((await k.api<Health>('GET', '/healthz')).body)?.dhcp).toMatchObject({
      mode: 'full',
      reason: 'no-other-server',
    });
  });
});

describe.skipIf(!enabled)('switching to full mode beside a real dnsmasq', () => {
  let pair: NetnsPair;
  let k: NetnsKindling;
  let dnsmasq: { stop(): Promise<void> };
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');

  beforeAll(async () => {
    pair = createNetnsPair();
    // --no-ping: dnsmasq offers at once instead of pinging the address for 3 s first.
    dnsmasq = startDnsmasq(pair, 'client', `${net()}.50,${net()}.60`, ['--no-ping', '--log-dhcp']);
    k = await startNetnsKindling(pair, {
      config: {
        dhcp: {
          mode: 'proxy',
          interface: pair.server.dev,
          range: { start: `${net()}.100`, end: `${net()}.150` },
          router: `${net()}.1`,
          dns: [`${net()}.1`],
        },
      },
      probeTimeoutMs: 4000,
    });
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    await dnsmasq?.stop();
    pair?.destroy();
  });

  it('refuses full mode and shows what answered; the file keeps proxy', async () => {
    const before = readFileSync(k.configFile, 'utf8');
    const r = await k.api<Refusal>('PUT', '/api/settings/network', { dhcp: { mode: 'full' } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('DHCP_OTHER_SERVER');
    expect(r.body.error.details.servers).toEqual([
      {
        server: pair.client.ip,
        offered: expect.stringMatching(new RegExp(`^${net().replace(/\./g, '\\.')}\\.(5\\d|60)$`)),
      },
    ]);
    expect(r.body.error.message).toContain(`${pair.client.ip} offered`);
    expect(readFileSync(k.configFile, 'utf8')).toBe(before);
    expect(dhcpOf((await k.api<Health>('GET', '/healthz')).body)?.dhcp).toMatchObject({
      mode: 'proxy',
      configuredMode: 'proxy',
    });
  });

  it(
    'accepts it with force; DHCP still refuses to hand out ' + 'addresses beside the other server and says so',
    async () => {
      const r = await k.api<NetworkSaved>('PUT', '/api/settings/network', { dhcp: { mode: 'full' }, force: true });
      expect(r.status).toBe(200);
      expect(r.body.settings.dhcp.mode).toBe('full');
      expect(readFileSync(k.configFile, 'utf8')).toMatch(/mode: full/);
      const dhcp = dhcpOf((await k.api<Health>('GET', '/healthz')).body);
      expect(dhcp).toMatchObject({
        state: 'degraded',
        dhcp: {
          configuredMode: 'full',
          mode: 'proxy',
          reason: 'other-server-seen',
          otherServers: [{ server: pair.client.ip }],
        },
      });
      const rec = (await k.api<NetworkView>('GET', '/api/setup/network')).body.recommendation;
      expect(rec).toMatchObject({ mode: 'proxy', reason: 'other-server-seen' });
    },
  );
});

describe('network settings without a kindling.yaml', () => {
  let k: TestKindling;
  beforeAll(async () => {
    // On lo, so the checks do not depend on this host's own addresses.
    k = await startTestKindling({
      config: {
        dhcp: {
          mode: 'off',
          interface: 'lo',
          range: { start: '127.0.0.100', end: '127.0.0.150' },
          subnetMask: '255.0.0.0',
          router: null,
          dns: [],
        },
      },
    });
  });
  afterAll(async () => {
    await k?.stop();
  });

  it('says there is no file to save to, after checking the values', async () => {
    const view = (await (await k.api('GET', '/api/settings/network')).json()) as {
      configFile: string | null;
      settings: { dhcp: { mode: string } };
    };
    expect(view).toMatchObject({ configFile: null, settings: { dhcp: { mode: 'off' } } });
    const bad = await k.api('PUT', '/api/settings/network', {
      dhcp: { range: { start: '127.0.0.300', end: '127.0.0.250' } },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Refusal).error.details.problems?.map((p) => p.key)).toEqual(['dhcp.range.start']);
    const r = await k.api('PUT', '/api/settings/network', { dhcp: { domain: 'lab.example' } });
    expect(r.status).toBe(409);
    expect(((await r.json()) as Refusal).error).toMatchObject({
      code: 'CONFIG_NOT_WRITABLE',
      message: expect.stringContaining('--config FILE'),
    });
  });

  it('refuses an unknown key in the request by name', async () => {
    const r = await k.api('PUT', '/api/settings/network', { dhcp: { rnage: {} } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as Refusal).error).toMatchObject({
      code: 'REQUEST_INVALID',
      message: expect.stringContaining('"dhcp.rnage"'),
    });
  });
});
