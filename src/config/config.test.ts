import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../errors.js';
import { loadConfig, parseConfig } from './index.js';

function configFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kindling-config-'));
  const file = path.join(dir, 'kindling.yaml');
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isKindlingError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('configuration', () => {
  it('gives every key a safe default from an empty file', () => {
    const { config } = loadConfig(configFile(''));
    expect(config.http).toEqual({ listen: '0.0.0.0', port: 80, httpsPort: 443 });
    expect(config.dhcp.mode).toBe('auto');
    expect(config.dhcp.bootFiles).toEqual({ bios: 'undionly.kpxe', uefi: 'snponly.efi', arm64: null });
    expect(config.tftp.maxBlksize).toBe(1468);
    expect(config.machines.unknown).toBe('wait');
    expect(config.mirror.sources[0]).toMatchObject({ os: 'flatcar', channel: 'stable', arch: 'amd64' });
  });

  it('uses the checkout defaults without a file: nothing that needs root, state in ./var', () => {
    const { config, file } = loadConfig(null, '/srv/checkout');
    expect(file).toBeNull();
    expect(config.dataDir).toBe('/srv/checkout/var');
    expect(config.http).toEqual({ listen: '127.0.0.1', port: 8080, httpsPort: 8443 });
    expect(config.tftp.port).toBeGreaterThan(1024);
    expect(config.dhcp.mode).toBe('off');
    expect(config.mirror.schedule).toBeNull();
  });

  it('reads the design contract example', () => {
    const { config } = loadConfig(
      configFile(
        `dataDir: /var/lib/kindling
server: { advertise: auto, interface: eth0 }
http: { listen: 0.0.0.0, port: 80 }
tftp: { enabled: true, port: 69, roots: [/usr/lib/ipxe], extraRoot: null, maxBlksize: 1468, ` +
          `maxTransfers: 256, maxPerClient: 4 }
dhcp:
  mode: auto
  range: { start: 10.77.0.100, end: 10.77.0.250 }
  bootFiles: { bios: undionly.kpxe, uefi: ipxe.efi, arm64: null }
mirror:
  schedule: "17 3 * * *"
  keep: 2
  sources:
    - { name: flatcar-stable, os: flatcar, channel: stable, arch: amd64, baseUrl: null, keys: null }
    - { name: fcos-stable, os: fcos, stream: stable, arch: x86_64, baseUrl: null }
machines:
  unknown: { profile: flatcar-install, name: "node-{{n}}" }
log: { level: info }
`,
      ),
    );
    expect(config.mirror.sources).toHaveLength(2);
    expect(config.machines.unknown).toEqual({ profile: 'flatcar-install', name: 'node-{{n}}' });
  });

  it.each([
    ['an unknown key, with its full path', 'dhcp:\n  mdoe: full\n', /kindling\.yaml: unknown key "dhcp\.mdoe"/],
    ['a wrong type, with what was expected', 'http:\n  port: eighty\n', /key "http\.port": .*expected number/],
    ['a value outside its choices', 'dhcp: { mode: maybe }\n', /key "dhcp\.mode": .*"off"\|"proxy"\|"full"\|"auto"/],
    ['an address that is not IPv4', 'dhcp: { router: 10.77.0.300 }\n', /key "dhcp\.router": expected an IPv4 address/],
    [
      'a name pattern without {{n}}',
      'machines: { unknown: { profile: p, name: node } }\n',
      /key "machines\.unknown\.name": expected a name pattern containing \{\{n\}\}/,
    ],
  ])('names the file and key for %s', (_what, text, pattern) => {
    const error = errorOf(() => loadConfig(configFile(text)));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(pattern);
  });

  it('names the line and column of a YAML syntax error', () => {
    const error = errorOf(() => loadConfig(configFile('http:\n  port: 80\n   listen: [\n')));
    expect(error.code).toBe('CONFIG_YAML');
    expect(error.message).toMatch(/kindling\.yaml:\d+:\d+: YAML does not parse/);
  });

  it('says when the file is missing', () => {
    const error = errorOf(() => loadConfig('/nonexistent/kindling.yaml'));
    expect(error).toMatchObject({ code: 'CONFIG_READ' });
    expect(error.message).toContain('/nonexistent/kindling.yaml: cannot read the configuration file: no such file');
  });

  it('resolves a relative dataDir against the file', () => {
    expect(parseConfig({ dataDir: 'state' }, 'x.yaml', '/etc/kindling').dataDir).toBe('/etc/kindling/state');
  });
});
