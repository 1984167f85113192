import path from 'node:path';
import type { MirrorSource } from './types.js';

// Where a source's versions live under dataDir/mirror. The relative path is also the
// URL path under /mirror/, so Flatcar's is exactly what flatcar-install -b expects
// (src/render/os-artifacts.ts builds the same URLs).

export const stagingDirName = '.staging';
export const manifestName = '.manifest.json';
export const currentLink = 'current';

/** A file or version name that is safe as one path segment: no separators, no dot-dot, no hidden names. */
const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

export function isSafeSegment(name: string): boolean {
  return segmentPattern.test(name) && !name.includes('..');
}

export function sourceRelativeDir(source: MirrorSource): string {
  return source.os === 'flatcar'
    ? `flatcar/${source.channel}/${source.arch}-usr`
    : `fcos/${source.stream}/${source.arch}`;
}

export function sourceDir(root: string, source: MirrorSource): string {
  return path.join(root, ...sourceRelativeDir(source).split('/'));
}

export function stagingDir(root: string, source: MirrorSource): string {
  return path.join(root, stagingDirName, source.name);
}
