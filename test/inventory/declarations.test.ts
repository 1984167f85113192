import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';

// Files edited by hand are picked up without a restart; a broken file keeps the
// last good version in force and the error is reported.

let k: TestKindling | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rack = `# the seed guides' rack
- { mac: "52:54:00:55:1c:ee", name: a-coreos, profile: flatcar-install }
- { mac: "52-54-00-47-51-E4", name: b-coreos, profile: flatcar-install, ip: 10.77.0.12 }
- { mac: "52:54:00:c3:2f:0a", name: c-coreos, profile: flatcar-install, vars: { role: worker } }
`;

describe('declarative files', () => {
  it('declares the three-node rack from machines.yaml, each with its own hostname', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': rack },
    });
    const machines = k.inventory.list();
    expect(machines.map((m) => [m.name, m.mac, m.state, m.reservedIp])).toEqual([
      ['a-coreos', '52:54:00:55:1c:ee', 'assigned', null],
      ['b-coreos', '52:54:00:47:51:e4', 'assigned', '10.77.0.12'],
      ['c-coreos', '52:54:00:c3:2f:0a', 'assigned', null],
    ]);
    for (const m of machines) {
      const res = await k.get(`/ignition?mac=${m.mac}&phase=target`);
      expect(await res.text()).toContain(encodeURIComponent(`${m.name}.rack.local`).slice(0, 8));
    }
  });

  it('picks up a profile edited by hand without a restart, and keeps the last good one when broken', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': rack },
    });
    const file = path.join(k.dataDir, 'config', 'profiles', 'flatcar-install.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('channel: stable', 'channel: beta'));
    await until('the edit', () => k!.declarations.profiles.get('flatcar-install')?.channel === 'beta');

    writeFileSync(file, 'os: flatcar\nchannel: [unclosed\n');
    const problems = await until('the error', () =>
      k!.declarations.problems.length > 0 ? k!.declarations.problems : false,
    );
    expect(problems[0]!.message).toMatch(/flatcar-install\.yaml:\d+:\d+: YAML does not parse/);
    expect(k.declarations.profiles.get('flatcar-install')?.channel).toBe('beta'); // last good version in force
    const health = (await (await k.get('/healthz')).json()) as {
      status: string;
      configProblems: Array<{ file: string }>;
    };
    expect(health.status).toBe('degraded');
    expect(health.configProblems[0]!.file).toBe(file);
    const script = await (await k.get('/ipxe?mac=52:54:00:55:1c:ee&platform=pcbios&arch=i386')).text();
    expect(script).toContain('/mirror/flatcar/beta/amd64-usr/');

    writeFileSync(file, 'os: flatcar\nchannel: lts\nmode: install\nhostnme: typo\n');
    const typo = await until('the schema error', () =>
      k!.declarations.problems.find((p) => p.message.includes('hostnme')),
    );
    expect(typo.message).toContain('unknown key "hostnme"');
  });

  it('reports a machines.yaml with a bad MAC or a duplicate, keeping the last good list', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': rack },
    });
    const file = path.join(k.dataDir, 'config', 'machines.yaml');
    writeFileSync(file, `${rack}- { mac: "not-a-mac", name: x }\n`);
    const bad = await until('the MAC error', () => k!.declarations.problems.find((p) => p.file === file));
    expect(bad.message).toContain('key "3.mac": "not-a-mac" is not a MAC address');
    writeFileSync(file, `${rack}- { mac: "52-54-00-55-1C-EE", name: dup, profile: flatcar-install }\n`);
    const dup = await until('the duplicate error', () =>
      k!.declarations.problems.find((p) => p.file === file && p.message.includes('already used')),
    );
    expect(dup.message).toContain('key "3.mac": mac 52:54:00:55:1c:ee is already used by entry 0');
    expect(k.declarations.machines).toHaveLength(3);
  });

  it('assigns through the API by writing machines.yaml, keeping its comments', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': rack },
    });
    await k.get('/ipxe?mac=52:54:00:00:00:0d');
    const res = await k.api('POST', '/api/machines/52:54:00:00:00:0d/assign', {
      profile: 'flatcar-install',
      name: 'd-coreos',
    });
    expect(res.status).toBe(200);
    const text = readFileSync(path.join(k.dataDir, 'config', 'machines.yaml'), 'utf8');
    expect(text).toContain("# the seed guides' rack");
    expect(text).toMatch(/mac: 52:54:00:00:00:0d\n\s+name: d-coreos\n\s+profile: flatcar-install/);
    expect(k.inventory.get('52:54:00:00:00:0d')).toMatchObject({ state: 'assigned', name: 'd-coreos' });
    expect((await k.api('DELETE', '/api/machines/52:54:00:00:00:0d')).status).toBe(200);
    expect(readFileSync(path.join(k.dataDir, 'config', 'machines.yaml'), 'utf8')).not.toContain('d-coreos');
    expect(k.inventory.get('52:54:00:00:00:0d')).toBeNull();
  });

  it('names and assigns unknown machines by the rule node-{{n}}', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile },
      config: { machines: { unknown: { profile: 'flatcar-install', name: 'node-{{n}}' } } },
    });
    await k.get('/ipxe?mac=52:54:00:00:00:01&platform=efi&arch=x86_64');
    expect(k.inventory.get('52:54:00:00:00:01')).toMatchObject({
      name: 'node-1',
      profile: 'flatcar-install',
      state: 'installing',
    });
    const script = await (await k.get('/ipxe?mac=52:54:00:00:00:02&platform=efi&arch=x86_64')).text();
    expect(script).toContain('node-2 (52:54:00:00:00:02): installing flatcar');
    expect(k.inventory.list().map((m) => [m.name, m.state])).toEqual([
      ['node-1', 'installing'],
      ['node-2', 'installing'],
    ]);
  });

  it('keeps machines and their states across a restart', async () => {
    k = await startTestKindling({
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': rack },
    });
    await k.get('/ipxe?mac=52:54:00:55:1c:ee&platform=pcbios&arch=i386');
    const before = k.inventory.get('52:54:00:55:1c:ee');
    const token = k.inventory.callbackToken('52:54:00:55:1c:ee', 'install');
    expect(before?.state).toBe('installing');
    const { dataDir } = k;
    await k.close();
    const { parseConfig } = await import('../../src/config/index.js');
    const { startKindling } = await import('../../src/main.js');
    const { pino } = await import('pino');
    const again = await startKindling({
      config: parseConfig(
        {
          dataDir,
          http: { listen: '127.0.0.1', port: 0, httpsPort: 0 },
          mirror: { schedule: null, sources: [] },
          dhcp: { mode: 'off' },
          tftp: { enabled: false },
        },
        't',
        dataDir,
      ),
      configFile: null,
      logger: pino({ level: 'silent' }),
    });
    expect(again.inventory.get('52:54:00:55:1c:ee')).toMatchObject({ state: 'installing', installs: 1 });
    expect(again.inventory.callbackToken('52:54:00:55:1c:ee', 'install')).toBe(token);
    expect(
      again.inventory
        .recentEvents('52:54:00:55:1c:ee')
        .map((e) => e.to)
        .filter(Boolean),
    ).toEqual(['discovered', 'assigned', 'installing']);
    await again.close();
  });
});
