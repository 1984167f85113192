import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../errors.js';
import { dataUrlText, nodeA, opsKey, sampleProfile, seedNodes, storageHeavyProfile } from './fixtures.test-data.js';
import { renderIgnition3 } from './ignition3.js';
import { renderTargetConfig } from './install.js';
import { nodeDescriptionSchema } from './node-description.js';
import { validateIgnition } from './validate-ignition.js';

type Ign = {
  ignition: { version: string };
  passwd: { users: Array<{ name: string; groups?: string[]; sshAuthorizedKeys?: string[]; passwordHash?: string }> };
  storage: {
    disks: Array<{ device: string; wipeTable: boolean; partitions: Array<Record<string, unknown>> }>;
    filesystems: Array<Record<string, unknown>>;
    files: Array<{ path: string; mode: number; overwrite: boolean; contents: { source: string } }>;
  };
  systemd: { units: Array<{ name: string; enabled?: boolean; mask?: boolean; contents?: string }> };
};

const target = (ctx = nodeA, profile = sampleProfile) => JSON.parse(renderTargetConfig(profile, ctx).body) as Ign;
const file = (ign: Ign, path: string) => {
  const f = ign.storage.files.find((x) => x.path === path);
  return f && { ...f, text: dataUrlText(f.contents.source) };
};
const unit = (ign: Ign, name: string) => ign.systemd.units.find((u) => u.name === name);

describe('renderTargetConfig, Ignition 3.3.0, the seed guides rack', () => {
  it.each(seedNodes.map((n) => [n.name, n] as const))(
    '%s gets its own hostname, the shared key and its own callback',
    (_name, ctx) => {
      const ign = target(ctx);
      expect(ign.ignition.version).toBe('3.3.0');
      expect(file(ign, '/etc/hostname')).toMatchObject({ mode: 0o644, text: `${ctx.name}.rack.local` });
      expect(ign.passwd.users).toEqual([{ name: 'core', groups: ['sudo', 'docker'], sshAuthorizedKeys: [opsKey] }]);
      const callback = unit(ign, 'kindling-running.service');
      expect(callback?.enabled).toBe(true);
      expect(callback?.contents).toContain(`"http://10.77.0.1/callback/running?mac=${ctx.mac}&token=${ctx.token}"`);
      for (const other of seedNodes.filter((n) => n !== ctx)) expect(JSON.stringify(ign)).not.toContain(other.token);
    },
  );

  it(
    'wipes the data disk, makes one docker partition, formats ext4 and ' + 'mounts it at /var/lib/docker at every boot',
    () => {
      const ign = target();
      expect(ign.storage.disks).toEqual([
        { device: '/dev/sdb', wipeTable: true, partitions: [{ label: 'docker', number: 0, sizeMiB: 0 }] },
      ]);
      expect(ign.storage.filesystems).toEqual([
        { device: '/dev/disk/by-partlabel/docker', format: 'ext4', path: '/var/lib/docker', wipeFilesystem: false },
      ]);
      const mount = unit(ign, 'var-lib-docker.mount');
      expect(mount?.enabled).toBe(true);
      expect(mount?.contents).toMatch(/What=\/dev\/disk\/by-partlabel\/docker\nWhere=\/var\/lib\/docker\nType=ext4/);
      expect(mount?.contents).toContain('WantedBy=local-fs.target');
    },
  );

  it('writes files with decimal modes and data URLs, and keeps units as declared', () => {
    const ign = target();
    expect(file(ign, '/home/core/.bashrc')).toMatchObject({ mode: 420, overwrite: true, text: 'alias k=kubectl\n' });
    expect(unit(ign, 'docker.service')).toEqual({ name: 'docker.service', enabled: true });
    expect(renderTargetConfig(sampleProfile, nodeA).contentType).toMatch(/^application\/json/);
  });

  it('renders the storage-heavy profile: masks, passwords, swap, sizes and starts, variables in contents', () => {
    const ign = target(seedNodes[1], storageHeavyProfile);
    expect(ign.passwd.users[1]).toEqual({ name: 'ops', groups: ['wheel'], passwordHash: '$6$rounds=4096$salt$hash' });
    expect(file(ign, '/etc/motd')?.text).toBe('Rack node b-coreos at 10.77.0.12\n');
    expect(file(ign, '/opt/bin/run.sh')).toMatchObject({ mode: 0o755, text: '#!/bin/sh\necho "100% $HOME"\n' });
    expect(unit(ign, 'etcd-member.service')?.contents).toContain('--name b-coreos');
    expect(unit(ign, 'update-engine.service')).toEqual({ name: 'update-engine.service', mask: true });
    expect(ign.storage.disks[1]?.partitions).toEqual([{ label: 'swap', number: 1, sizeMiB: 2048, startMiB: 1 }]);
    expect(ign.storage.filesystems[2]).toEqual({
      device: '/dev/disk/by-partlabel/swap',
      format: 'swap',
      wipeFilesystem: false,
    });
    expect(unit(ign, 'mnt-my\\x2ddata.mount')?.contents).toContain('Options=noatime');
    expect(unit(ign, 'dev-disk-by\\x2dpartlabel-swap.swap')?.contents).toContain('What=/dev/disk/by-partlabel/swap');
    expect(validateIgnition(ign)).toEqual([]);
  });

  it('keeps a mount unit the profile writes itself instead of generating one', () => {
    const own = {
      name: 'var-lib-docker.mount',
      enabled: true,
      contents: '[Mount]\nWhat=/dev/sdb1\nWhere=/var/lib/docker\n[Install]\nWantedBy=local-fs.target\n',
    };
    const ign = target(nodeA, { ...sampleProfile, units: [own] });
    expect(ign.systemd.units.filter((u) => u.name === 'var-lib-docker.mount')).toEqual([own]);
  });

  it('refuses to serve a config that fails validation, naming the problem', () => {
    const clash = {
      ...sampleProfile,
      files: [{ path: '/etc/hostname', mode: '0644', contents: 'x', overwrite: true }],
    };
    try {
      renderTargetConfig(clash, nodeA);
      expect.unreachable();
    } catch (err) {
      expect(isKindlingError(err, 'RENDER_INVALID')).toBe(true);
      expect((err as Error).message).toContain('duplicate file path "/etc/hostname"');
    }
  });

  it('turns an undefined variable into TEMPLATE_VARIABLE naming the profile field', () => {
    expect(() => renderTargetConfig({ ...sampleProfile, hostname: '{{name}}.{{zone}}' }, nodeA)).toThrow(
      /profile flatcar-install: hostname: variable \{\{zone\}\} is not defined/,
    );
  });
});

describe('renderIgnition3', () => {
  it('renders an empty description to the version and the callback only', () => {
    const ign = renderIgnition3(nodeDescriptionSchema.parse({}), nodeA) as Ign;
    expect(Object.keys(ign)).toEqual(['ignition', 'systemd']);
    expect(ign.systemd.units.map((u) => u.name)).toEqual(['kindling-running.service']);
  });
  it('leaves the callback out on request', () => {
    expect(renderIgnition3(nodeDescriptionSchema.parse({}), nodeA, { runningCallback: false })).toEqual({
      ignition: { version: '3.3.0' },
    });
  });
});
