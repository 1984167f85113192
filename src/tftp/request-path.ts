// Pure check of a requested filename before it touches the disk. A TFTP name is relative
// to the served roots; anything that could name a file outside them is refused here, and
// roots.ts refuses symlinks that lead out after resolution.

export type PathCheck = { ok: true; segments: string[] } | { ok: false; reason: string };

/** Longer names are not boot files; this bounds the work a request can cause. */
const MAX_NAME_LENGTH = 1024;

export function checkRequestPath(name: string): PathCheck {
  if (name.length === 0) return { ok: false, reason: 'empty name' };
  if (name.length > MAX_NAME_LENGTH) return { ok: false, reason: `name longer than ${MAX_NAME_LENGTH} characters` };
  if (name.includes('\0')) return { ok: false, reason: 'NUL byte in name' };
  // Backslashes are Windows separators to some clients: "..\\x" must not become a parent step.
  if (name.includes('\\')) return { ok: false, reason: 'backslash in name' };
  // Control characters, and U+FFFD from bytes that were not UTF-8, are never in a boot path.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused
  if (/[\u0000-\u001f\u007f\ufffd]/.test(name)) return { ok: false, reason: 'control or non-UTF-8 character in name' };
  if (name.startsWith('/')) return { ok: false, reason: 'absolute path' };
  const segments: string[] = [];
  for (const segment of name.split('/')) {
    if (segment === '..') return { ok: false, reason: 'parent directory step ".."' };
    if (segment === '' || segment === '.') continue;
    segments.push(segment);
  }
  if (segments.length === 0) return { ok: false, reason: 'name has no file part' };
  return { ok: true, segments };
}
