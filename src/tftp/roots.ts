// File roots searched in order (config `tftp.roots`, then `tftp.extraRoot`). A root that
// is missing at start is logged and skipped: the ipxe package may not be installed yet.
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';

export interface ResolvedFile {
  path: string;
  stats: Stats;
  root: string;
}

export type ResolveResult =
  | { ok: true; file: ResolvedFile }
  | { ok: false; kind: 'not-found' | 'access'; reason: string };

export class FileRoots {
  private constructor(private readonly roots: readonly string[]) {}

  /** Resolves each root's real path once, so per-request checks compare against fixed prefixes. */
  static async open(options: { roots: readonly string[]; extraRoot: string | null; logger: Logger }): Promise<FileRoots> {
    const wanted = options.extraRoot === null ? [...options.roots] : [...options.roots, options.extraRoot];
    const found: string[] = [];
    for (const root of wanted) {
      try {
        const real = await realpath(root);
        if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
        if (!found.includes(real)) found.push(real);
      } catch (err) {
        options.logger.warn({ root, err: (err as Error).message }, 'tftp root unavailable; skipping it');
      }
    }
    return new FileRoots(found);
  }

  get list(): readonly string[] {
    return this.roots;
  }

  /** Finds `segments` in the first root that has it; a symlink leading out of its root is refused, not skipped. */
  async resolve(segments: readonly string[]): Promise<ResolveResult> {
    for (const root of this.roots) {
      let real: string;
      try {
        real = await realpath(join(root, ...segments));
      } catch {
        continue;
      }
      if (!real.startsWith(root + sep)) return { ok: false, kind: 'access', reason: `resolves to ${real}, outside root ${root}` };
      let stats: Stats;
      try {
        stats = await stat(real);
      } catch {
        continue;
      }
      if (!stats.isFile()) return { ok: false, kind: 'access', reason: 'not a regular file' };
      return { ok: true, file: { path: real, stats, root } };
    }
    return { ok: false, kind: 'not-found', reason: 'in no root' };
  }
}
