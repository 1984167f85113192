import { describe, expect, it } from 'vitest';
import { dataUrlText, nodeA, opsKey, sampleProfile } from './fixtures.test-data.js';
import { renderTargetConfig } from './install.js';

describe('renderTargetConfig, Ignition 2.3.0 (config: ignition-v2)', () => {
  const rendered = renderTargetConfig({ ...sampleProfile, config: 'ignition-v2' }, nodeA);
  const ign = JSON.parse(rendered.body);

  it('says spec 2.3.0', () => {
    expect(rendered.format).toBe('ignition-v2');
    expect(ign.ignition).toEqual({ version: '2.3.0' });
  });

  it('puts files on the root filesystem with decimal modes', () => {
    expect(ign.storage.files[0]).toMatchObject({ filesystem: 'root', path: '/etc/hostname', mode: 420 });
    expect(dataUrlText(ign.storage.files[0].contents.source)).toBe('a-coreos.rack.local');
  });

  it('nests filesystem creation under mount, with a name, and mounts through a unit', () => {
    expect(ign.storage.filesystems).toEqual([
      {
        name: 'kindling-dev-disk-by\\x2dpartlabel-docker',
        mount: { device: '/dev/disk/by-partlabel/docker', format: 'ext4', wipeFilesystem: false },
      },
    ]);
    expect(ign.storage.disks[0]).toEqual({
      device: '/dev/sdb',
      wipeTable: true,
      partitions: [{ label: 'docker', number: 0, sizeMiB: 0 }],
    });
    expect(ign.systemd.units.find((u: { name: string }) => u.name === 'var-lib-docker.mount')).toMatchObject({
      enabled: true,
    });
  });

  it('keeps users and the running callback', () => {
    expect(ign.passwd.users[0]).toEqual({ name: 'core', groups: ['sudo', 'docker'], sshAuthorizedKeys: [opsKey] });
    expect(ign.systemd.units.map((u: { name: string }) => u.name)).toContain('kindling-running.service');
  });
});
