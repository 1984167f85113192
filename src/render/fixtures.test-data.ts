import { nodeDescriptionSchema, type RenderContext } from './node-description.js';
import type { RenderProfile } from './render-profile.js';

// The design's sample profile and the seed guides' three nodes (a-, b-, c-coreos),
// shared by the render tests.

export const opsKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0c2FtcGxla2V5Zm9ydGVzdHNvbmx5 ops@rack';

export const sampleDescription = nodeDescriptionSchema.parse({
  hostname: '{{name}}.rack.local',
  users: [{ name: 'core', groups: ['sudo', 'docker'], sshAuthorizedKeys: [opsKey] }],
  files: [{ path: '/home/core/.bashrc', mode: '0644', contents: 'alias k=kubectl\n' }],
  units: [{ name: 'docker.service', enabled: true }],
  storage: {
    disks: [{ device: '/dev/sdb', wipe: true, partitions: [{ label: 'docker', sizeMiB: 0 }] }],
    filesystems: [{ device: '/dev/disk/by-partlabel/docker', format: 'ext4', path: '/var/lib/docker' }],
  },
});

export const sampleProfile: RenderProfile = {
  name: 'flatcar-install',
  os: 'flatcar',
  channel: 'stable',
  version: 'current',
  arch: 'amd64',
  mode: 'install',
  installDisk: '/dev/sda',
  config: 'ignition',
  autologin: false,
  kernelArgs: [],
  ...sampleDescription,
};

export const fcosProfile: RenderProfile = {
  ...sampleProfile,
  name: 'fcos-install',
  os: 'fcos',
  channel: undefined,
  stream: 'stable',
  arch: 'x86_64',
};

export const storageHeavyProfile: RenderProfile = {
  ...sampleProfile,
  name: 'storage-heavy',
  ...nodeDescriptionSchema.parse({
    hostname: '{{name}}',
    users: [
      { name: 'core', sshAuthorizedKeys: [opsKey] },
      { name: 'ops', groups: ['wheel'], passwordHash: '$6$rounds=4096$salt$hash' },
    ],
    files: [
      { path: '/etc/motd', contents: 'Rack node {{name}} at {{ip}}\n' },
      { path: '/opt/bin/run.sh', mode: '0755', contents: '#!/bin/sh\necho "100% $HOME"\n' },
    ],
    units: [
      {
        name: 'etcd-member.service',
        enabled: true,
        contents: '[Service]\nExecStart=/usr/bin/etcd --name {{name}}\n[Install]\nWantedBy=multi-user.target\n',
      },
      { name: 'update-engine.service', mask: true },
    ],
    storage: {
      disks: [
        {
          device: '/dev/sdb',
          wipe: true,
          partitions: [
            { label: 'docker', number: 1, sizeMiB: 10240 },
            { label: 'data', number: 2, sizeMiB: 0 },
          ],
        },
        { device: '/dev/sdc', partitions: [{ label: 'swap', number: 1, startMiB: 1, sizeMiB: 2048 }] },
      ],
      filesystems: [
        {
          device: '/dev/disk/by-partlabel/docker',
          format: 'ext4',
          path: '/var/lib/docker',
          label: 'docker',
          wipe: true,
        },
        { device: '/dev/disk/by-partlabel/data', format: 'xfs', path: '/mnt/my-data', mountOptions: ['noatime'] },
        { device: '/dev/disk/by-partlabel/swap', format: 'swap' },
      ],
    },
  }),
};

export const seedNodes: RenderContext[] = [
  {
    mac: '52:54:00:55:1c:ee',
    name: 'a-coreos',
    ip: '10.77.0.11',
    serverUrl: 'http://10.77.0.1',
    token: 'tok-a-3f9c',
    vars: {},
  },
  {
    mac: '52:54:00:47:51:e4',
    name: 'b-coreos',
    ip: '10.77.0.12',
    serverUrl: 'http://10.77.0.1',
    token: 'tok-b-81aa',
    vars: {},
  },
  {
    mac: '52:54:00:81:ac:aa',
    name: 'c-coreos',
    ip: '10.77.0.13',
    serverUrl: 'http://10.77.0.1',
    token: 'tok-c-77d0',
    vars: { rack: 'r1' },
  },
];

export const nodeA = seedNodes[0] as RenderContext;

export const ignitionTemplate =
  `{
  "ignition": { "version": "3.3.0" },
  "storage": { "files": [{ "path": "/etc/hostname", "mode": 420, "contents": { "source": "data:,{{ name }}" } ` +
  `}] },
  "passwd": { "users": [{ "name": "core", "sshAuthorizedKeys": ["${opsKey}"] }] },
  "systemd": { "units": [{ "name": "hello.service", "enabled": true, "contents": ` +
  `"[Service]\\nExecStart=/bin/echo {{name}} {{rack}}\\n[Install]\\nWantedBy=multi-user.target\\n" }] }
}`;

export const templateProfile: RenderProfile = {
  ...sampleProfile,
  name: 'web',
  hostname: undefined,
  users: [],
  files: [],
  units: [],
  storage: { disks: [], filesystems: [] },
  template: ignitionTemplate,
};

/** Decode a data: URL written by the renderers. */
export function dataUrlText(source: string): string {
  const comma = source.indexOf(',');
  const meta = source.slice(5, comma);
  const data = source.slice(comma + 1);
  return meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
}
