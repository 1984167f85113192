import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDirectory } from '../store/index.js';
import { currentLink, isSafeSegment, manifestName } from './layout.js';
import type { VersionManifest } from './types.js';
import { compareVersions } from './version-order.js';

// The published side of one source: VERSION directories that each hold a manifest
// (written last, before the directory is renamed into place, so a directory with a
// manifest is complete and verified) and a `current` symlink flipped by rename.

export interface SourceIndex {
  versions: Map<string, VersionManifest>;
  current: string | null;
}

export async function loadSourceIndex(dir: string): Promise<SourceIndex> {
  const versions = new Map<string, VersionManifest>();
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    // Leftovers of a crash between making and renaming a temp link or a trash directory.
    if (name.startsWith('.')) {
      await fs.rm(path.join(dir, name), { recursive: true, force: true });
      continue;
    }
    if (name === currentLink || !isSafeSegment(name)) continue;
    try {
      const manifest = JSON.parse(await fs.readFile(path.join(dir, name, manifestName), 'utf8')) as VersionManifest;
      if (manifest.version === name) versions.set(name, manifest);
    } catch {
      // No manifest: not a version this mirror published; never served.
    }
  }
  let current: string | null = null;
  try {
    const target = await fs.readlink(path.join(dir, currentLink));
    if (versions.has(target)) current = target;
  } catch {
    // No link yet.
  }
  if (!current && versions.size > 0) current = [...versions.keys()].sort(compareVersions).pop() ?? null;
  return { versions, current };
}

/** Moves a complete, verified staging directory into place: one rename, so it appears whole or not at all. */
export async function publishVersion(staged: string, dir: string, version: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const target = path.join(dir, version);
  // A directory without a manifest there is not served; make room for the complete one.
  await fs.rm(target, { recursive: true, force: true });
  await fs.rename(staged, target);
  await fsyncDirectory(dir);
  await fsyncDirectory(path.dirname(staged));
}

/** Points `current` at `version` with a rename over the old link, so a reader sees the old or the new one. */
export async function setCurrent(dir: string, version: string): Promise<void> {
  const temp = path.join(dir, `.current.${randomBytes(6).toString('hex')}`);
  await fs.symlink(version, temp);
  await fs.rename(temp, path.join(dir, currentLink));
  await fsyncDirectory(dir);
}

/** Renames the version away first so it vanishes at once, then deletes it. */
export async function removeVersion(dir: string, version: string): Promise<void> {
  const trash = path.join(dir, `.trash-${version}-${randomBytes(4).toString('hex')}`);
  await fs.rename(path.join(dir, version), trash);
  await fsyncDirectory(dir);
  await fs.rm(trash, { recursive: true, force: true });
}
