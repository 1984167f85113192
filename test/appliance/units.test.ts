import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The appliance's systemd units: `systemd-analyze verify` finds no error, in a
// throw-away root that holds the units and stand-ins for the programs they start, so
// the check does not depend on Kindling being installed on this machine.

const repo = path.resolve(import.meta.dirname, '../..');
const appliance = path.join(repo, 'appliance');
const units = [
  'kindling.service',
  'kindling-firstboot.service',
  'kindling-mirror-resume.service',
  'kindling-mirror-resume.timer',
  'kindling-host-address.service',
  'kindling-host-address.path',
];
const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

function unitText(name: string): string {
  return readFileSync(path.join(appliance, name), 'utf8');
}

/** The value of each `Key=` line of a unit (all occurrences). */
function directives(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('appliance units', () => {
  let root = '';

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'kindling-units-'));
    const unitDir = path.join(root, 'usr/lib/systemd/system');
    mkdirSync(unitDir, { recursive: true });
    // The host's own units (sysinit.target, multi-user.target, ...) that ours refer to.
    const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((dir) =>
      existsSync(path.join(dir, 'sysinit.target')),
    );
    if (hostUnits) execFileSync('cp', ['-a', `${hostUnits}/.`, unitDir]);
    for (const unit of units) copyFileSync(path.join(appliance, unit), path.join(unitDir, unit));
    for (const program of [
      'usr/bin/kindling',
      'usr/libexec/kindling/kindling-firstboot',
      'usr/libexec/kindling/kindling-mirror-resume',
      'usr/libexec/kindling/kindling-issue',
      'bin/kill',
      'usr/bin/kill',
    ]) {
      mkdirSync(path.dirname(path.join(root, program)), { recursive: true });
      writeFileSync(path.join(root, program), '#!/bin/sh\nexit 0\n');
      chmodSync(path.join(root, program), 0o755);
    }
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(!hasAnalyze)('pass systemd-analyze verify', () => {
    const result = spawnSync(
      'systemd-analyze',
      ['verify', `--root=${root}`, ...units.map((u) => path.join(root, 'usr/lib/systemd/system', u))],
      {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' },
      },
    );
    // Lines about units outside ours (the host's own, missing in the fake root) are not ours to judge.
    const ours = `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '' && units.some((u) => line.includes(u)));
    expect(ours, ours.join('\n')).toEqual([]);
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('kindling.service is Type=notify with a watchdog, restarts on failure and stops restarting on bad config', () => {
    const unit = unitText('kindling.service');
    expect(directives(unit, 'Type')).toEqual(['notify']);
    expect(directives(unit, 'NotifyAccess')).toEqual(['main']);
    expect(Number(directives(unit, 'WatchdogSec')[0])).toBeGreaterThanOrEqual(10);
    expect(directives(unit, 'Restart')).toEqual(['on-failure']);
    expect(directives(unit, 'ExecStartPre')[0]).toMatch(/kindling check --config \/etc\/kindling\/kindling.yaml$/);
    expect(directives(unit, 'StartLimitBurst')).toHaveLength(1);
  });

  it('kindling.service runs as its own user with only CAP_NET_BIND_SERVICE and is locked down', () => {
    const unit = unitText('kindling.service');
    expect(directives(unit, 'User')).toEqual(['kindling']);
    expect(directives(unit, 'AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(directives(unit, 'CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
    for (const [key, value] of [
      ['ProtectSystem', 'strict'],
      ['ReadWritePaths', '/var/lib/kindling /etc/kindling'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6 AF_NETLINK'],
      ['SystemCallFilter', '@system-service'],
    ]) {
      expect(directives(unit, key!), key).toEqual([value]);
    }
    // V8's JIT needs writable+executable memory: this must never be switched on.
    expect(directives(unit, 'MemoryDenyWriteExecute')).toEqual([]);
  });

  it('the address helper runs as root with no capability and no network, on the file Kindling writes', async () => {
    const unit = unitText('kindling-host-address.service');
    for (const [key, value] of [
      ['Type', 'oneshot'],
      ['ExecStart', '/usr/bin/kindling host-address apply'],
      ['CapabilityBoundingSet', ''],
      ['NoNewPrivileges', 'yes'],
      ['PrivateNetwork', 'yes'],
      ['RestrictAddressFamilies', 'AF_UNIX'],
      ['ProtectSystem', 'strict'],
      ['RuntimeDirectory', 'kindling-host-address'],
      ['RuntimeDirectoryPreserve', 'yes'],
      // Root without CAP_DAC_OVERRIDE reads Kindling's 0640 request as a member of its group.
      ['SupplementaryGroups', 'kindling'],
    ]) {
      expect(directives(unit, key!), key).toEqual([value]);
    }
    expect(directives(unit, 'User')).toEqual([]);
    expect(directives(unit, 'ReadWritePaths')).toEqual([]);
    // The three places that name the request file agree: Kindling's dataDir on the appliance,
    // the path unit, and the helper's default.
    const { hostAddressDefaults } = await import('../../src/cli/host-address.js');
    const dataDir = /^dataDir: (.*)$/m.exec(unitText('kindling.yaml'))?.[1];
    const watched = directives(unitText('kindling-host-address.path'), 'PathChanged');
    expect(watched).toEqual([`${dataDir}/host-address/request.json`]);
    expect(`${hostAddressDefaults.dir}/request.json`).toBe(watched[0]);
    expect(hostAddressDefaults.statusFile).toBe('/run/kindling-host-address/status.json');
    expect(unitText('kindling.yaml')).toMatch(/hostAddress: \{ manage: true \}/);
  });

  it('the default kindling.yaml validates with `kindling check`', () => {
    const cli = path.join(repo, 'src/cli.ts');
    const tsx = path.join(repo, 'node_modules/.bin/tsx');
    if (!existsSync(tsx)) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'kindling-yaml-'));
    try {
      // Same file, with dataDir pointed at a temporary directory so nothing on this machine is touched.
      const text = unitText('kindling.yaml').replace(/^dataDir: .*$/m, `dataDir: ${path.join(dir, 'data')}`);
      writeFileSync(path.join(dir, 'kindling.yaml'), text);
      const out = execFileSync(tsx, [cli, 'check', '--config', path.join(dir, 'kindling.yaml')], {
        encoding: 'utf8',
        cwd: dir,
      });
      expect(out).toMatch(/valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('appliance shell scripts', () => {
  const scripts = [
    'appliance/kindling-firstboot',
    'appliance/kindling-mirror-resume',
    'appliance/kindling-issue',
    'image-build/make-bundle.sh',
    'image-build/install-kindling.sh',
    'image-build/test-rootfs.sh',
    'image-build/build.sh',
    'pi-gen-config/stage-kindling/prerun.sh',
    'pi-gen-config/stage-kindling/00-install/00-run.sh',
  ].map((s) => path.join(repo, s));
  const hasShellcheck = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;

  it('start with set -euo pipefail', () => {
    for (const script of scripts.filter((s) => existsSync(s)))
      expect(readFileSync(script, 'utf8'), script).toMatch(/^set -euo pipefail$/m);
  });

  it.skipIf(!hasShellcheck)('are shellcheck-clean', () => {
    const result = spawnSync('shellcheck', ['-x', ...scripts.filter((s) => existsSync(s))], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
