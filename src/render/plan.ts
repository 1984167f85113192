import { runningCallbackUnit } from './callbacks.js';
import type { NodeDescription, NodeFile, NodeUser, RenderContext } from './node-description.js';
import { mountUnitFor, type PlannedUnit } from './systemd.js';

// What every Ignition renderer puts in a config, whatever the spec version: the
// description, Kindling's own units and files, and a mount unit per mounted filesystem.

/** What Kindling adds to a description beyond what the profile says. */
export interface RenderExtras {
  /** Added after the description's files. */
  files?: NodeFile[];
  /** Added after the description's units. */
  units?: PlannedUnit[];
  /** The kindling-running.service callback; on unless false (the install phase is not "running"). */
  runningCallback?: boolean;
}

export interface NodePlan {
  hostname: string | undefined;
  users: NodeUser[];
  files: NodeFile[];
  units: PlannedUnit[];
  storage: NodeDescription['storage'];
}

export function planNode(desc: NodeDescription, ctx: RenderContext, extras: RenderExtras = {}): NodePlan {
  const declared = new Set(desc.units.map((u) => u.name));
  // A profile that writes its own mount unit (as the seed guides did) keeps it.
  const mounts = desc.storage.filesystems
    .map((fs) => mountUnitFor(fs))
    .filter((u): u is PlannedUnit => u !== null && !declared.has(u.name));
  return {
    hostname: desc.hostname,
    users: desc.users,
    files: [...desc.files, ...(extras.files ?? [])],
    units: [
      ...desc.units,
      ...mounts,
      ...(extras.units ?? []),
      ...(extras.runningCallback === false ? [] : [runningCallbackUnit(ctx)]),
    ],
    storage: desc.storage,
  };
}

/** A file's mode as Ignition wants it: a decimal integer ("0644" -> 420). */
export function modeNumber(mode: string): number {
  return Number.parseInt(mode, 8);
}

/**
 * Contents as an RFC 2397 data URL, percent-encoded so the config stays readable
 * in the machine page. encodeURIComponent leaves only unreserved characters bare.
 */
export function dataUrl(contents: string): string {
  return `data:,${encodeURIComponent(contents)}`;
}

export const hostnamePath = '/etc/hostname';
