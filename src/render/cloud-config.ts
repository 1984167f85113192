import { stringify } from 'yaml';
import { runningCallbackUnit } from './callbacks.js';
import { diskUnits } from './disk-units.js';
import type { NodeDescription, NodeFile, RenderContext } from './node-description.js';
import type { PlannedUnit } from './systemd.js';

// #cloud-config for coreos-cloudinit, as Flatcar still reads it:
// https://github.com/flatcar/coreos-cloudinit/blob/flatcar-master/Documentation/cloud-config.md
// The spellings are cloud-config's own: `ssh-authorized-keys` inside users,
// `ssh_authorized_keys` at the top (keys for the core user), `write_files` with
// `permissions`, and `coreos.units` with `command`, `enable`, `mask` and `drop-ins`.
// coreos-cloudinit parses YAML 1.1, where a bare `on` or `yes` is a boolean, so the
// output is written for YAML 1.1 and such strings come out quoted.

export interface CloudConfigExtras {
  files?: NodeFile[];
  units?: PlannedUnit[];
  /** The kindling-running.service callback; on unless false. */
  runningCallback?: boolean;
}

export function renderCloudConfig(desc: NodeDescription, ctx: RenderContext, extras: CloudConfigExtras = {}): string {
  const declared = new Set(desc.units.map((u) => u.name));
  const units = [
    // Storage first: coreos-cloudinit starts units in order, and the mounts must be in place before the profile's
    // services.
    ...diskUnits(desc.storage).filter((u) => !declared.has(u.name)),
    ...desc.units,
    ...(extras.units ?? []),
    ...(extras.runningCallback === false ? [] : [runningCallbackUnit(ctx)]),
  ];
  const files = [...desc.files, ...(extras.files ?? [])];
  const coreKeys = desc.users.filter((u) => u.name === 'core').flatMap((u) => u.sshAuthorizedKeys);
  const doc: Record<string, unknown> = {};
  if (desc.hostname !== undefined) doc.hostname = desc.hostname;
  if (desc.users.length > 0) {
    doc.users = desc.users.map((u) => ({
      name: u.name,
      ...(u.groups.length > 0 ? { groups: u.groups } : {}),
      ...(u.sshAuthorizedKeys.length > 0 ? { 'ssh-authorized-keys': u.sshAuthorizedKeys } : {}),
      ...(u.passwordHash !== undefined ? { passwd: u.passwordHash } : {}),
    }));
  }
  if (coreKeys.length > 0) doc.ssh_authorized_keys = coreKeys;
  if (files.length > 0)
    doc.write_files = files.map((f) => ({ path: f.path, permissions: f.mode.padStart(4, '0'), content: f.contents }));
  if (units.length > 0) doc.coreos = { units: units.map(cloudConfigUnit) };
  return substituteAddresses(`#cloud-config\n${stringify(doc, { lineWidth: 0, version: '1.1' })}`, ctx.ip);
}

function cloudConfigUnit(u: PlannedUnit): Record<string, unknown> {
  return {
    name: u.name,
    ...(u.mask ? { mask: true } : {}),
    ...(u.enabled ? { enable: true } : {}),
    // Start now on first boot, as the seed guides did: coreos-cloudinit runs after boot, so enabling alone waits for
    // the next one.
    ...(u.enabled && !u.mask ? { command: 'start' } : {}),
    ...(u.contents !== undefined ? { content: u.contents } : {}),
    ...(u.dropins && u.dropins.length > 0
      ? { 'drop-ins': u.dropins.map((d) => ({ name: d.name, content: d.contents })) }
      : {}),
  };
}

const addressPattern = /^[0-9A-Fa-f.:]+$/;

/**
 * `$private_ipv4` and `$public_ipv4` become the node's address, as the seed guides'
 * nginx sub_filter did; coreos-cloudinit itself only knows them on clouds with metadata.
 * A backslash-escaped `\$private_ipv4` is left for coreos-cloudinit, which unescapes it.
 * With no known address the placeholders stay as they are (coreos-cloudinit leaves
 * unknown ones untouched too), so a preview shows where the address will go.
 * The address is only digits, dots and colons, so it is safe in any YAML scalar.
 */
export function substituteAddresses(text: string, ip: string | null): string {
  if (ip === null || !addressPattern.test(ip)) return text;
  return text.replace(/(?<!\\)\$(private|public)_ipv4\b/g, ip);
}
