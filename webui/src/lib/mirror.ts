import type { MirrorState, SyncOutcome } from '../../../src/api-client/types';
import { client, ApiError, upload } from './api';

/** GET /api/mirror, or null when this Kindling has no mirror service (404). */
export async function mirrorState(): Promise<MirrorState | null> {
  try {
    return await client.mirror();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Small files Kindling reads first to say which others the release needs. */
const isMetadata = (name: string): boolean => name === 'version.txt' || name.endsWith('.json');

/**
 * The page's import, the same steps as `kindling mirror import` (src/mirror/import-client.ts):
 * upload the metadata, ask which files the release needs, upload those, then have
 * Kindling verify and publish. Rejects with the server's ApiError (file and reason).
 */
export async function importFiles(
  files: File[],
  onFile: (name: string, sent: number, total: number) => void,
): Promise<SyncOutcome> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const { upload: id } = await client.json<{ upload: string }>('POST', '/api/mirror/import', {});
  const send = (f: File) =>
    upload(`/api/mirror/import/${id}/${encodeURIComponent(f.name)}`, f, (sent) => onFile(f.name, sent, f.size));
  for (const f of files.filter((f) => isMetadata(f.name))) await send(f);
  const plan = await client.json<{ source: string; files: string[] }>('POST', `/api/mirror/import/${id}/plan`, {});
  for (const name of plan.files) {
    const f = byName.get(name);
    if (f) await send(f);
  }
  return (
    await client.json<{ outcome: SyncOutcome }>('POST', `/api/mirror/import/${id}/finish`, { source: plan.source })
  ).outcome;
}
