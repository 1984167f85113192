import { randomBytes } from 'node:crypto';
import { promises as fs, constants } from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `data` so that a crash or kill -9 at any moment leaves either
 * the old or the new contents, never a mix: write a temp file in the same directory,
 * fsync it, rename it over the target (atomic on POSIX), then fsync the directory so
 * the rename itself survives a power cut. Owner-only unless the caller says otherwise:
 * most state holds tokens, leases or hashes that no other local user should read.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(dir);
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes the files directly in `dir` owner-only: state an older version wrote 0644
 * (event log, lease journal) holds addresses, tokens and hashes. Subdirectories are
 * left to their owners (tls/ has a public certificate).
 */
export async function restrictToOwner(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const file = path.join(dir, e.name);
    const { mode } = await fs.stat(file);
    if (mode & 0o077) await fs.chmod(file, mode & 0o700);
  }
}

/** Removes temp files a crash left behind; they never hold the only copy of anything. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  const stale = names.filter((n) => n.startsWith('.') && n.endsWith('.tmp'));
  await Promise.all(stale.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return stale.length;
}
