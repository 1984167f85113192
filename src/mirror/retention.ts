import { compareVersions } from './version-order.js';

export interface HeldVersion {
  version: string;
  publishedAt: string;
}

export interface RetentionInput {
  versions: HeldVersion[];
  current: string | null;
  /** How many versions a source keeps (mirror.keep). */
  keep: number;
  /** Versions a machine in state `installing` is fetching right now. */
  inUse: ReadonlySet<string>;
}

/**
 * The versions to delete: all but the `keep` newest, never the current one and never
 * one a machine is installing from (deleting it would break that install half-way).
 */
export function versionsToRemove(input: RetentionInput): string[] {
  const newestFirst = [...input.versions].sort(
    (a, b) => b.publishedAt.localeCompare(a.publishedAt) || compareVersions(b.version, a.version),
  );
  const kept = new Set(newestFirst.slice(0, Math.max(1, input.keep)).map((v) => v.version));
  if (input.current) kept.add(input.current);
  return newestFirst.map((v) => v.version).filter((v) => !kept.has(v) && !input.inUse.has(v));
}
