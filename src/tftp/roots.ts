// File roots searched in order (config `tftp.roots`, then `tftp.extraRoot`). A root that
// is missing at start is logged and skipped: the ipxe package may not be installed yet.
//
// Symlinks: the extra root holds users' files, so a link there must resolve inside it.
// The package roots are written only by the package manager, and Debian's own layout
// links out of them (/usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi), so links there are
// followed. Names are checked the same everywhere (request-path.ts). docs/decisions.md.
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
  { ok: true; file: ResolvedFile } | { ok: false; kind: 'not-found' | 'access'; reason: string };

interface Root {
  path: string;
  /** Whether a symlink must resolve inside this root. */
  confined: boolean;
}

export class FileRoots {
  private constructor(private readonly roots: readonly Root[]) {}

  /** Resolves each root's real path once, so per-request checks compare against fixed prefixes. */
  static async open(options: {
    roots: readonly string[];
    extraRoot: string | null;
    logger: Logger;
  }): Promise<FileRoots> {
    const wanted = options.roots.map((path) => ({ path, confined: false }));
    if (options.extraRoot !== null) wanted.push({ path: options.extraRoot, confined: true });
    const found: Root[] = [];
    for (const { path: root, confined } of wanted) {
      try {
        const real = await realpath(root);
        if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
        if (!found.some((r) => r.path === real)) found.push({ path: real, confined });
      } catch (err) {
        options.logger.warn({ root, err: (err as Error).message }, 'tftp root unavailable; skipping it');
      }
    }
    return new FileRoots(found);
  }

  get list(): readonly string[] {
    return this.roots.map((r) => r.path);
  }

  /**
   * Finds `segments` in the first root that has it; a symlink leading out of a confined root is refused, not skipped.
   */
  async resolve(segments: readonly string[]): Promise<ResolveResult> {
    for (const { path: root, confined } of this.roots) {
      let real: string;
      try {
        real = await realpath(join(root, ...segments));
      } catch {
        continue;
      }
      if (confined && !real.startsWith(root + sep))
        return { ok: false, kind: 'access', reason: `resolves to ${real}, outside root ${root}` };
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
