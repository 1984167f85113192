import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../store/atomic-file.js';

/** Reads a secret file, or creates it (0600) with fresh random content. Returns [secret, created]. */
export async function readOrCreateSecret(file: string): Promise<[string, boolean]> {
  try {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (text.length >= 16) return [text, false];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(24).toString('base64url');
  await writeFileAtomic(file, `${secret}\n`, 0o600);
  return [secret, true];
}
