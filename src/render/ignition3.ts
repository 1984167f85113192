import type { NodeDescription, RenderContext } from './node-description.js';
import { dataUrl, hostnamePath, modeNumber, planNode, type NodePlan, type RenderExtras } from './plan.js';

// Ignition spec 3.3.0: https://coreos.github.io/ignition/configuration-v3_3/
// The version Debian's ignition-validate 2.14 accepts, and what current Flatcar
// (>= 3185.0.0) and Fedora CoreOS read.

export const ignition3Version = '3.3.0';

type Json = Record<string, unknown>;

/** Drop keys whose value is undefined or an empty list, so configs stay short to read. */
export function compact(o: Json): Json {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

/** `passwd` and `systemd` read the same in spec 2.3.0 and 3.3.0; both renderers use these. */
export function passwdSection(plan: NodePlan): Json | undefined {
  return plan.users.length > 0
    ? {
        users: plan.users.map((u) =>
          compact({
            name: u.name,
            groups: u.groups,
            sshAuthorizedKeys: u.sshAuthorizedKeys,
            passwordHash: u.passwordHash,
          }),
        ),
      }
    : undefined;
}

export function systemdSection(plan: NodePlan): Json | undefined {
  return plan.units.length > 0
    ? {
        units: plan.units.map((u) =>
          compact({ name: u.name, enabled: u.enabled, mask: u.mask, contents: u.contents, dropins: u.dropins }),
        ),
      }
    : undefined;
}

export function renderIgnition3(desc: NodeDescription, ctx: RenderContext, extras: RenderExtras = {}): Json {
  const plan = planNode(desc, ctx, extras);
  const files = [
    ...(plan.hostname !== undefined
      ? [{ path: hostnamePath, mode: '0644', contents: plan.hostname, overwrite: true }]
      : []),
    ...plan.files,
  ].map((f) => ({
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
    filesystems: plan.storage.filesystems.map((fs) =>
      compact({
        device: fs.device,
        format: fs.format,
        // Ignition mounts `path` only while it writes files; the mount unit mounts it at boot.
        path: fs.format === 'swap' ? undefined : fs.path,
        label: fs.label,
        wipeFilesystem: fs.wipe,
        mountOptions: fs.format === 'swap' ? undefined : fs.mountOptions,
      }),
    ),
    files,
  });

  return compact({
    ignition: { version: ignition3Version },
    passwd: passwdSection(plan),
    storage: Object.keys(storage).length > 0 ? storage : undefined,
    systemd: systemdSection(plan),
  });
}
