import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isKindlingError } from '../errors.js';
import { dataUrlText, fcosProfile, nodeA, opsKey, sampleProfile } from './fixtures.test-data.js';
import { flatcarInstallScript, installScriptPath, renderInstallConfig } from './install.js';

type Unit = { name: string; enabled?: boolean; contents?: string; dropins?: Array<{ name: string; contents: string }> };
const ignition = (profile = sampleProfile) => JSON.parse(renderInstallConfig(profile, nodeA).body);

describe('renderInstallConfig, Flatcar', () => {
  it('runs flatcar-install against the mirror with the target config, calls back and reboots', () => {
    const script = flatcarInstallScript(sampleProfile, nodeA);
    const lines = script.split('\n');
    expect(lines).toContain(
      'curl --fail --silent --show-error --retry 10 --retry-connrefused --retry-max-time ' +
        '600 --connect-timeout 10 -o /tmp/target.ign ' +
        "'http://10.77.0.1/ignition?mac=52:54:00:55:1c:ee&phase=target' || fail " +
        'fetch-target-config',
    );
    expect(lines).toContain(
      "flatcar-install -d '/dev/sda' -b " +
        "'http://10.77.0.1/mirror/flatcar/stable/amd64-usr' -V 'current' -i /tmp/target.ign " +
        '|| fail flatcar-install',
    );
    expect(script).toMatch(
      new RegExp(
        /-X POST -o \/dev\/null 'http:\/\/10.77.0.1\/callback\/installed\?mac=52:54:00:/.source +
          /55:1c:ee&token=tok-a-3f9c' \|\| fail callback-installed\nsystemctl reboot\n$/.source,
      ),
    );
    expect(script).toContain("failed_url='http://10.77.0.1/callback/failed?mac=52:54:00:55:1c:ee&token=tok-a-3f9c'");
    expect(script).toContain('"${failed_url}&reason=$1"');
  });

  it('pins a version and uses -c for cloud-config', () => {
    const script = flatcarInstallScript(
      { ...sampleProfile, version: '4081.2.0', config: 'cloud-config', channel: 'beta', installDisk: '/dev/nvme0n1' },
      nodeA,
    );
    expect(script).toContain("/tmp/target.yaml 'http://10.77.0.1/cloud-config?mac=52:54:00:55:1c:ee&phase=target'");
    expect(script).toContain(
      "flatcar-install -d '/dev/nvme0n1' -b " +
        "'http://10.77.0.1/mirror/flatcar/beta/amd64-usr' -V '4081.2.0' -c " +
        '/tmp/target.yaml',
    );
  });

  it('is an Ignition 3 config with the install unit, the script and the operator keys, but no running callback', () => {
    const ign = ignition();
    expect(ign.ignition.version).toBe('3.3.0');
    const unit = ign.systemd.units.find((u: Unit) => u.name === 'kindling-install.service');
    expect(unit.enabled).toBe(true);
    expect(unit.contents).toContain(`ExecStart=/bin/bash ${installScriptPath}`);
    expect(unit.contents).toContain('After=network-online.target');
    expect(ign.systemd.units.map((u: Unit) => u.name)).not.toContain('kindling-running.service');
    expect(dataUrlText(ign.storage.files[0].contents.source)).toBe(flatcarInstallScript(sampleProfile, nodeA));
    expect(ign.storage.files[0].mode).toBe(0o700);
    expect(ign.storage.disks).toBeUndefined();
    expect(ign.passwd.users[0].sshAuthorizedKeys).toEqual([opsKey]);
  });

  it('follows profile.config: Ignition 2.3.0 or cloud-config', () => {
    expect(ignition({ ...sampleProfile, config: 'ignition-v2' }).ignition.version).toBe('2.3.0');
    const cc = renderInstallConfig({ ...sampleProfile, config: 'cloud-config' }, nodeA);
    expect(cc.format).toBe('cloud-config');
    const doc = parse(cc.body);
    expect(doc.write_files[0]).toMatchObject({ path: installScriptPath, permissions: '0700' });
    expect(doc.coreos.units).toEqual([
      expect.objectContaining({ name: 'kindling-install.service', enable: true, command: 'start' }),
    ]);
  });

  it('refuses a live profile', () => {
    try {
      renderInstallConfig({ ...sampleProfile, mode: 'live' }, nodeA);
      expect.unreachable();
    } catch (err) {
      expect(isKindlingError(err, 'REQUEST_INVALID')).toBe(true);
    }
  });
});

describe('renderInstallConfig, Fedora CoreOS', () => {
  it('calls back installed after coreos-installer succeeds and before its reboot, and failed through OnFailure', () => {
    const units = ignition(fcosProfile).systemd.units as Unit[];
    const installed = units.find((u) => u.name === 'kindling-installed.service');
    expect(installed?.enabled).toBe(true);
    expect(installed?.contents).toContain('After=coreos-installer.service');
    expect(installed?.contents).toContain('Before=coreos-installer-reboot.service');
    expect(installed?.contents).toContain('WantedBy=coreos-installer.target');
    expect(installed?.contents).toContain(
      '"http://10.77.0.1/callback/installed?mac=52:54:00:55:1c:ee&token=tok-a-3f9c"',
    );
    expect(units.find((u) => u.name === 'coreos-installer.service')?.dropins).toEqual([
      { name: 'kindling-failed.conf', contents: '[Unit]\nOnFailure=kindling-install-failed.service\n' },
    ]);
    expect(units.find((u) => u.name === 'kindling-install-failed.service')?.contents).toContain(
      'reason=coreos-installer',
    );
  });
});
