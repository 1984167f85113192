import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignitionText } from '../support/ignition-validate.js';
import { canUseNetns } from '../support/netns.js';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';
import { createRemoteHost, type RemoteHost } from './support/remote-host.js';

// An attacker on the rack LAN who knows a machine's MAC (printed on
// its case, seen in every broadcast) tries to read its config, which holds its callback
// token and whatever secrets the profile renders, and then to report for it.

const victim = '52:54:00:13:07:01';
const machines = `- { mac: "${victim}", name: node-1, profile: flatcar-install }\n`;
const installToken = /callback\/installed\?mac=[^&]+&token=([A-Za-z0-9_-]{20,})/;

describe.skipIf(!canUseNetns())('config fetches are bound to the machine', () => {
  let k: TestKindling;
  let node: RemoteHost;
  let attacker: RemoteHost;
  let base: (host: RemoteHost) => string;

  beforeAll(async () => {
    node = createRemoteHost();
    attacker = createRemoteHost();
    // Both hosts reach it: each on its own veth, through the address on this side.
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': machines },
      config: { http: { listen: '0.0.0.0', port: 0, httpsPort: 0 } },
    });
    const port = new URL(k.httpUrl).port;
    base = (host) => `http://${host.localIp}:${port}`;
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    node?.destroy();
    attacker?.destroy();
  });

  /** Status and body of one request from a host; the status is on the last line. */
  const from = async (host: RemoteHost, url: string, method = 'GET') => {
    const out = await host.curl(['-X', method, '-w', '\n%{http_code}', `${base(host)}${url}`]);
    const cut = out.lastIndexOf('\n');
    return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
  };

  it(
    'serves the config to the address the machine booted from, ' + 'and not to another host that names its MAC',
    async () => {
      expect((await from(node, `/ipxe?mac=${victim}&arch=x86_64&platform=efi`)).body).toContain('ignition.config.url=');
      const own = await from(node, `/ignition?mac=${victim}`);
      expect(own.status).toBe(200);
      const token = installToken.exec(ignitionText(own.body))?.[1];
      expect(token).toBeDefined();

      for (const url of [
        `/ignition?mac=${victim}`,
        `/ignition?mac=${victim}&phase=target`,
        `/ignition?mac=${victim}&phase=install`,
        `/cloud-config?mac=${victim}`,
        `/ignition?mac=${victim.toUpperCase().replace(/:/g, '-')}`,
      ]) {
        const stolen = await from(attacker, url);
        expect(stolen.status, url).toBe(403);
        expect(JSON.parse(stolen.body)).toMatchObject({ error: { code: 'CONFIG_ADDRESS' } });
        expect(stolen.body).toContain(node.remoteIp); // the admin reading the log sees where the config goes
        expect(stolen.body).not.toContain(token!);
      }
      expect(k.inventory.recentEvents(victim).filter((e) => e.type === 'config-refused')).toHaveLength(1);
    },
  );

  it('limits fetches per source address, and records one event per phase, not one per fetch', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 34; i++) statuses.push((await from(node, `/ignition?mac=${victim}`)).status);
    // One fetch was made by the test before: 30 a minute in all, then 429.
    expect(statuses.filter((s) => s === 200)).toHaveLength(29);
    expect(statuses.slice(29)).toEqual([429, 429, 429, 429, 429]);
    expect(k.inventory.recentEvents(victim).filter((e) => e.type === 'config')).toHaveLength(1);
  });

  it('spends the callback token: a config read later cannot report for the machine', async () => {
    // The node's address is rate-limited by now; the box itself (this process) reads the same config.
    const config = await (await k.get(`/ignition?mac=${victim}`)).text();
    const token = installToken.exec(ignitionText(config))![1]!;
    const report = (event: string, t: string) =>
      k.get(`/callback/${event}?mac=${victim}&token=${t}`, { method: 'POST' });

    expect(await (await report('installed', token)).json()).toMatchObject({ state: 'installed', changed: true });
    // The node's own retry (its first answer lost) is answered and changes nothing.
    expect(await (await report('installed', token)).json()).toMatchObject({ state: 'installed', changed: false });
    // Whoever holds the spent token cannot move the machine anywhere else.
    for (const event of ['failed', 'running']) expect((await report(event, token)).status, event).toBe(403);
    expect(k.inventory.get(victim)?.state).toBe('installed');
    expect(k.inventory.callbackToken(victim, 'install')).not.toBe(token);
  });
});
