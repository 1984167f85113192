import type { NodeDescription, NodeFilesystem } from './node-description.js';
import { escapePath, execArg, mountUnitFor, shellQuote, type PlannedUnit } from './systemd.js';

// The storage part of a description as systemd units, for cloud-config, which has no
// storage section: the seed guides' format-ephemeral.service and var-lib-docker.mount,
// made safe to run at every boot (coreos-cloudinit applies user_data on every boot).
// A disk is wiped, and a filesystem made with `wipe`, once per install: a stamp on the
// root filesystem records it, as Ignition's first-boot-only run does for Ignition configs.
// Without `wipe`, partitions are made only when their label is missing and mkfs runs
// only when the device holds no filesystem signature, so data survives reboots.

type Storage = NodeDescription['storage'];

const stampDir = '/var/lib/kindling-storage';
/** A stamp file name: plain characters, so it reads the same in systemd and sh quoting. */
const stampName = (device: string) => device.replace(/^\/+/, '').replace(/[^A-Za-z0-9]+/g, '_');

const mkfs: Record<NodeFilesystem['format'], (fs: NodeFilesystem) => string> = {
  ext4: (fs) => `mkfs.ext4 -F${fs.label ? ` -L ${shellQuote(fs.label)}` : ''}`,
  xfs: (fs) => `mkfs.xfs -f${fs.label ? ` -L ${shellQuote(fs.label)}` : ''}`,
  btrfs: (fs) => `mkfs.btrfs -f${fs.label ? ` -L ${shellQuote(fs.label)}` : ''}`,
  vfat: (fs) => `mkfs.vfat${fs.label ? ` -n ${shellQuote(fs.label)}` : ''}`,
  swap: (fs) => `mkswap -f${fs.label ? ` -L ${shellQuote(fs.label)}` : ''}`,
};

export function partitionUnitName(device: string): string {
  return `partition-${escapePath(device)}.service`;
}

export function formatUnitName(fs: NodeFilesystem): string {
  return `format-${escapePath(fs.path ?? fs.device)}.service`;
}

/** Units in start order: partitioning, formatting, then mounts. */
export function diskUnits(storage: Storage): PlannedUnit[] {
  const partitioning = storage.disks.filter((d) => d.wipe || d.partitions.length > 0).map(partitionUnit);
  const partitionNames = partitioning.map((u) => u.name);
  const formatting = storage.filesystems.map((fs) => formatUnit(fs, partitionNames));
  const mounts = storage.filesystems
    .map((fs) => mountUnitFor(fs, { after: [formatUnitName(fs)] }))
    .filter((u): u is PlannedUnit => u !== null);
  return [...partitioning, ...formatting, ...mounts];
}

function partitionUnit(disk: Storage['disks'][number]): PlannedUnit {
  const dev = shellQuote(disk.device);
  const stamp = `${stampDir}/${stampName(disk.device)}.wiped`;
  const lines = [
    'set -eu',
    `mkdir -p ${stampDir}`,
    ...(disk.wipe ? [`if [ ! -e ${stamp} ]; then wipefs -a ${dev}; sgdisk --zap-all ${dev}; touch ${stamp}; fi`] : []),
    ...disk.partitions.map((p) => {
      // sgdisk: number 0 = next free; start 0 = first free sector; end 0 = the largest free block's end.
      const start = p.startMiB !== undefined ? `${p.startMiB}M` : '0';
      const end = p.sizeMiB > 0 ? `+${p.sizeMiB}M` : '0';
      const label = shellQuote(p.label);
      return (
        `[ -e /dev/disk/by-partlabel/${p.label} ] || sgdisk --new=${p.number}:${start}:${end} ` +
        `--change-name=${p.number === 0 ? '0' : p.number}:${label} ${dev}`
      );
    }),
    `partprobe ${dev} || true`,
    'udevadm settle',
  ];
  return oneshot(
    partitionUnitName(disk.device),
    `Partition ${disk.device} (Kindling)`,
    [`Requires=${escapePath(disk.device)}.device`, `After=${escapePath(disk.device)}.device`],
    lines,
  );
}

function formatUnit(fs: NodeFilesystem, partitionUnits: string[]): PlannedUnit {
  const dev = shellQuote(fs.device);
  const stamp = `${stampDir}/${stampName(fs.device)}.formatted`;
  const make = `${mkfs[fs.format](fs)} ${dev}`;
  const condition = fs.wipe
    ? `[ ! -e ${stamp} ] || [ -z "$(blkid -p -o value -s TYPE ${dev})" ]`
    : `[ -z "$(blkid -p -o value -s TYPE ${dev})" ]`;
  const lines = [
    'set -eu',
    `mkdir -p ${stampDir}`,
    'udevadm settle',
    `if ${condition}; then ${make}; fi`,
    `touch ${stamp}`,
  ];
  const order = partitionUnits.flatMap((u) => [`Requires=${u}`, `After=${u}`]);
  return oneshot(formatUnitName(fs), `Format ${fs.device} as ${fs.format} (Kindling)`, order, lines);
}

function oneshot(name: string, description: string, order: string[], script: string[]): PlannedUnit {
  return {
    name,
    contents: [
      '[Unit]',
      `Description=${description}`,
      // Early, like the mount that needs it, but after / is writable for the stamps.
      'DefaultDependencies=no',
      'After=systemd-remount-fs.service',
      ...order,
      'Before=local-fs.target',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/bin/sh -c ${execArg(script.join('; '))}`,
      '',
    ].join('\n'),
  };
}
