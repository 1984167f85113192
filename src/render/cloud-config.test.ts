import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCloudConfig, substituteAddresses } from './cloud-config.js';
import { nodeA, opsKey, sampleProfile, storageHeavyProfile } from './fixtures.test-data.js';
import { renderTargetConfig } from './install.js';

type Unit = { name: string; command?: string; enable?: boolean; mask?: boolean; content?: string };
const render = (profile = sampleProfile, ctx = nodeA) =>
  renderTargetConfig({ ...profile, config: 'cloud-config' }, ctx).body;
const units = (text: string) => (parse(text) as { coreos: { units: Unit[] } }).coreos.units;

describe('renderTargetConfig, cloud-config', () => {
  it('starts with #cloud-config and uses cloud-config spellings', () => {
    const text = render();
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text);
    expect(doc.hostname).toBe('a-coreos.rack.local');
    expect(doc.users).toEqual([{ name: 'core', groups: ['sudo', 'docker'], 'ssh-authorized-keys': [opsKey] }]);
    expect(doc.ssh_authorized_keys).toEqual([opsKey]);
    expect(doc.write_files).toEqual([
      { path: '/home/core/.bashrc', permissions: '0644', content: 'alias k=kubectl\n' },
      {
        path: '/etc/flatcar/update.conf',
        permissions: '0644',
        content:
          "# Written by Kindling: update_engine asks Kindling's mirror for " +
          'updates.\nSERVER=http://10.77.0.1/v1/update/\nGROUP=stable\n',
      },
    ]);
  });

  it('lays out the disk with units in order: partition, format, mount, then the profile units and the callback', () => {
    const list = units(render());
    expect(list.map((u) => u.name)).toEqual([
      'partition-dev-sdb.service',
      'format-var-lib-docker.service',
      'var-lib-docker.mount',
      'docker.service',
      'kindling-running.service',
    ]);
    expect(list[2]).toMatchObject({ enable: true, command: 'start' });
    expect(list[2]?.content).toContain('Requires=format-var-lib-docker.service');
    expect(list[3]).toEqual({ name: 'docker.service', enable: true, command: 'start' });
  });

  it('formats only a device without a filesystem, and wipes once per install when asked', () => {
    const [part, format] = units(render());
    expect(format?.content).toContain(
      `if [ -z \\"$$(blkid -p -o value -s TYPE '/dev/disk/by-partlabel/docker')\\" ]; ` +
        `then mkfs.ext4 -F '/dev/disk/by-partlabel/docker'; fi`,
    );
    expect(part?.content).toContain("if [ ! -e /var/lib/kindling-storage/dev_sdb.wiped ]; then wipefs -a '/dev/sdb'");
    expect(part?.content).toContain(
      "[ -e /dev/disk/by-partlabel/docker ] || sgdisk --new=0:0:0 --change-name=0:'docker' '/dev/sdb'",
    );
    const heavy = units(render(storageHeavyProfile));
    const wiped = heavy.find((u) => u.name === 'format-var-lib-docker.service');
    expect(wiped?.content).toContain(
      '[ ! -e /var/lib/kindling-storage/dev_disk_by_partlabel_docker.formatted ] || [ -z',
    );
    expect(wiped?.content).toContain("mkfs.ext4 -F -L 'docker'");
    expect(heavy.find((u) => u.name === 'partition-dev-sdc.service')?.content).toContain('--new=1:1M:+2048M');
    expect(heavy.find((u) => u.name === 'update-engine.service')).toEqual({
      name: 'update-engine.service',
      mask: true,
    });
  });

  it('carries the running callback with this machine token', () => {
    const cb = units(render()).find((u) => u.name === 'kindling-running.service');
    expect(cb).toMatchObject({ enable: true, command: 'start' });
    expect(cb?.content).toContain('/callback/running?mac=52:54:00:55:1c:ee&token=tok-a-3f9c');
  });

  it('replaces $private_ipv4 and $public_ipv4 with the node address', () => {
    const profile = {
      ...sampleProfile,
      files: [
        {
          path: '/etc/etcd.env',
          mode: '0600',
          overwrite: true,
          contents: 'ADVERTISE=http://$private_ipv4:2379\nPUBLIC=$public_ipv4\nLITERAL=\\$private_ipv4\n',
        },
      ],
    };
    const content = parse(render(profile)).write_files[0].content;
    expect(content).toBe('ADVERTISE=http://10.77.0.11:2379\nPUBLIC=10.77.0.11\nLITERAL=\\$private_ipv4\n');
    expect(parse(render(profile, { ...nodeA, ip: null })).write_files[0].content).toContain(
      'http://$private_ipv4:2379',
    );
  });

  it('quotes strings YAML 1.1 would read as booleans', () => {
    const text = renderCloudConfig(
      { hostname: 'on', users: [], files: [], units: [], storage: { disks: [], filesystems: [] } },
      nodeA,
      { runningCallback: false },
    );
    expect(text).toBe('#cloud-config\nhostname: "on"\n');
  });
});

describe('substituteAddresses', () => {
  it.each([
    ['$private_ipv4', '10.0.0.5'],
    ['x$private_ipv4_y', 'x$private_ipv4_y'],
    ['\\$public_ipv4', '\\$public_ipv4'],
  ])('%s -> %s', (text, expected) => {
    expect(substituteAddresses(text, '10.0.0.5')).toBe(expected);
  });
});
