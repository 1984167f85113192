import { compact, passwdSection, systemdSection } from './ignition3.js';
import type { NodeDescription, RenderContext } from './node-description.js';
import { dataUrl, hostnamePath, modeNumber, planNode, type RenderExtras } from './plan.js';
import { escapePath } from './systemd.js';

// Ignition spec 2.3.0, for Flatcar releases older than 3185.0.0:
// https://github.com/coreos/ignition/blob/spec2x/doc/configuration-v2_3.md
// Differences from 3.x that matter here: files name the filesystem they go to
// ("root" is the one Ignition mounts itself), filesystems nest what to create under
// `mount` and have no mount point, and units say `enabled`.
//
// Partitions use sizeMiB/startMiB, which 2.3.0 added; the older size/start count
// logical sectors, which are 4096 bytes on 4Kn disks, so MiB*2048 would be wrong there.

export const ignition2Version = '2.3.0';

type Json = Record<string, unknown>;

export function renderIgnition2(desc: NodeDescription, ctx: RenderContext, extras: RenderExtras = {}): Json {
  const plan = planNode(desc, ctx, extras);
  const files = [
    ...(plan.hostname !== undefined
      ? [{ path: hostnamePath, mode: '0644', contents: plan.hostname, overwrite: true }]
      : []),
    ...plan.files,
  ].map((f) => ({
    filesystem: 'root',
    path: f.path,
    mode: modeNumber(f.mode),
    overwrite: f.overwrite,
    contents: { source: dataUrl(f.contents) },
  }));

  const storage = compact({
    disks: plan.storage.disks.map((d) =>
      compact({
        device: d.device,
        wipeTable: d.wipe,
        partitions: d.partitions.map((p) =>
          compact({ label: p.label, number: p.number, sizeMiB: p.sizeMiB, startMiB: p.startMiB }),
        ),
      }),
    ),
    filesystems: plan.storage.filesystems.map((fs) => ({
      name: filesystemName(fs.device),
      mount: compact({ device: fs.device, format: fs.format, wipeFilesystem: fs.wipe, label: fs.label }),
    })),
    files,
  });

  return compact({
    ignition: { version: ignition2Version },
    passwd: passwdSection(plan),
    storage: Object.keys(storage).length > 0 ? storage : undefined,
    systemd: systemdSection(plan),
  });
}

/** A filesystem's internal Ignition name; never "root", which files use for the root filesystem. */
function filesystemName(device: string): string {
  return `kindling-${escapePath(device)}`;
}
