// The Pi's own address from the page, as an operator does it, against a real Kindling in
// a network namespace serving full DHCP: the request through the admin API, the real
// root-side helper (`kindling host-address apply`) changing the address of the veth, the
// page reaching Kindling at the new address from the other side of the link and
// confirming there, and a change nobody confirms going back by itself. NetworkManager is
// played by test/support/host-address-helper.ts's stand-in (ip(8) on the veth); the
// appliance boot test (image-build/test-rootfs.sh) runs the helper against the real one.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ErrorAnswer, HostAddressRequested, HostAddressView } from '../../src/api-client/types.js';
import { hostAddressRig, type HostAddressRig } from '../support/host-address-helper.js';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { startNetnsKindling, type NetnsKindling } from '../support/netns-kindling.js';

const enabled = canUseNetns();
type Refusal = ErrorAnswer & { error: { details: { problems?: Array<{ key: string }> } } };

describe.skipIf(!enabled)('the Pi own address from the page', () => {
  let pair: NetnsPair;
  let k: NetnsKindling;
  let rig: HostAddressRig;
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');
  const httpsPort = () => new URL(k.httpsUrl).port;
  const addressesNow = () =>
    [...pair.exec(pair.server.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', pair.server.dev]).matchAll(/inet (\S+)/g)]
      .map((m) => m[1])
      .join(' ');

  async function waitForState(id: string, state: string, seconds: number): Promise<HostAddressView> {
    const until = Date.now() + seconds * 1000;
    for (;;) {
      const view = (await k.api<HostAddressView>('GET', '/api/settings/host-address')).body;
      if (view.status?.id === id && view.status.state === state) return view;
      if (Date.now() > until) throw new Error(`no ${state} in ${seconds} s: ${JSON.stringify(view.status)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** From the other machine on the link, as the browser would: HTTPS to the new address. */
  const fromRack = (address: string, method: string, url: string, body?: unknown) => {
    try {
      return curlFromRack(address, method, url, body);
    } catch (err) {
      // curl exits non-zero when nothing answers; its -w output still says 000.
      return String((err as { stdout?: string }).stdout ?? '\n000');
    }
  };
  const curlFromRack = (address: string, method: string, url: string, body?: unknown) =>
    pair.exec(pair.client.ns, 'curl', [
      '-sk',
      '--max-time',
      '5',
      '-X',
      method,
      '-H',
      `authorization: Bearer ${k.adminToken}`,
      ...(body === undefined ? [] : ['-H', 'content-type: application/json', '--data', JSON.stringify(body)]),
      '-w',
      '\n%{http_code}',
      `https://${address}:${httpsPort()}${url}`,
    ]);

  beforeAll(async () => {
    pair = createNetnsPair();
    rig = hostAddressRig(pair);
    k = await startNetnsKindling(pair, { config: rig.kindlingConfig });
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    pair?.destroy();
    rig?.remove();
  });

  it('shows the address the interface has and that this Kindling manages it', async () => {
    const { body } = await k.api<HostAddressView>('GET', '/api/settings/host-address');
    expect(body).toMatchObject({
      managed: true,
      interface: pair.server.dev,
      addresses: [`${pair.server.ip}/24`],
      pending: null,
    });
  });

  it('refuses by key: no address, a subnet the DHCP range is not in, DHCP in full mode', async () => {
    const put = async (body: unknown) => (await k.api<Refusal>('PUT', '/api/settings/host-address', body)).body.error;
    expect(await put({ method: 'static', address: `${net()}.0/24` })).toMatchObject({
      code: 'HOST_ADDRESS_INVALID',
      details: { problems: [{ key: 'address' }] },
    });
    expect(await put({ method: 'static', address: `${net()}.7/24; reboot` })).toMatchObject({
      code: 'REQUEST_INVALID',
      message: expect.stringContaining('address'),
    });
    expect(await put({ method: 'static', address: '10.201.0.5/24' })).toMatchObject({
      code: 'NETWORK_INVALID',
      details: { problems: [{ key: 'dhcp.range.start' }, { key: 'dhcp.range.end' }] },
    });
    expect(await put({ method: 'dhcp' })).toMatchObject({
      code: 'HOST_ADDRESS_INVALID',
      details: { problems: [{ key: 'method' }] },
    });
    expect(existsSync(path.join(k.dataDir, 'host-address', 'request.json'))).toBe(false);
  });

  it('moves to a new address, reached and confirmed there; the keys that named the old one follow', async () => {
    const put = await k.api<HostAddressRequested>('PUT', '/api/settings/host-address', {
      method: 'static',
      address: `${net()}.7/24`,
      confirmSeconds: 60,
    });
    expect(put.status).toBe(202);
    expect(put.body.confirmUrl).toBe(`https://${net()}.7:${httpsPort()}/#/settings`);
    expect(put.body.changed).toEqual(['dhcp.router', 'dhcp.dns', 'server.advertise']);
    const id = put.body.pending?.id as string;
    // One change at a time.
    const second = await k.api<Refusal>('PUT', '/api/settings/host-address', {
      method: 'static',
      address: `${net()}.9/24`,
    });
    expect(second.body.error.code).toBe('HOST_ADDRESS_PENDING');

    // The helper is root without CAP_DAC_OVERRIDE, in Kindling's group: group-readable, no more.
    expect(statSync(path.join(k.dataDir, 'host-address', 'request.json')).mode & 0o777).toBe(0o640);
    const helper = rig.run(k.dataDir);
    await waitForState(id, 'waiting-confirm', 20);
    expect(addressesNow()).toBe(`${net()}.7/24`);
    // The old address is gone: the page must be opened at the new one.
    expect(fromRack(pair.server.ip, 'GET', '/healthz').split('\n').pop()).toBe('000');
    const confirmed = fromRack(`${net()}.7`, 'POST', '/api/settings/host-address/confirm', { id });
    expect(confirmed.split('\n').pop()).toBe('200');
    expect(JSON.parse(confirmed.split('\n')[0] as string)).toMatchObject({
      restarting: true,
      status: { id, state: 'confirmed' },
    });

    expect(await helper).toMatchObject({ code: 0 });
    expect(readFileSync(rig.profileFile, 'utf8')).toBe(`manual ${net()}.7/24\n`);
    expect(readFileSync(rig.systemctlLog, 'utf8')).toContain('try-restart kindling.service');
    const yaml = parse(readFileSync(k.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(yaml.server?.advertise).toBe(`${net()}.7`);
    expect(yaml.dhcp).toMatchObject({ router: `${net()}.7`, dns: [`${net()}.7`] });
    expect(readFileSync(k.configFile, 'utf8')).toContain('# Written by test/support/kindling.ts');
  }, 60_000);

  it('goes back by itself when nobody confirms in time, and a late confirmation is refused', async () => {
    const before = readFileSync(k.configFile, 'utf8');
    const put = await k.api<HostAddressRequested>('PUT', '/api/settings/host-address', {
      method: 'static',
      address: `${net()}.8/24`,
      confirmSeconds: 30,
    });
    expect(put.status).toBe(202);
    const id = put.body.pending?.id as string;
    const helper = rig.run(k.dataDir);
    await waitForState(id, 'waiting-confirm', 20);
    expect(addressesNow()).toBe(`${net()}.8/24`);
    const view = await waitForState(id, 'reverted', 45);
    expect(view.status?.error).toContain('not confirmed within 30 s');
    expect(view.pending).toBeNull();
    expect(addressesNow()).toBe(`${net()}.7/24`);
    expect(await helper).toMatchObject({ code: 0 });
    const late = await k.api<Refusal>('POST', '/api/settings/host-address/confirm', { id });
    expect(late.body.error.code).toBe('HOST_ADDRESS_NOT_WAITING');
    expect(readFileSync(k.configFile, 'utf8')).toBe(before);
  }, 90_000);
});
