import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { KindlingError } from '../errors.js';
import { isSafeSegment } from './layout.js';
import { ProgressMeter } from './progress.js';
import type { ProgressEvent, SyncOutcome } from './types.js';

// `kindling mirror import DIR`: uploads the release to the running service, which
// verifies and publishes it (Mirror.importRelease), so the service stays the only
// writer of the mirror and no file permission of the stick's mount matters to it.

export interface ImportClientInput {
  dir: string;
  source?: string;
  /** http://HOST:PORT of the running service, and its admin token. */
  baseUrl: string;
  token: string;
  onProgress?: (event: ProgressEvent) => void;
}

/** Small files the server reads first to tell which others the release needs. */
const isMetadata = (name: string): boolean => name === 'version.txt' || name.endsWith('.json');

async function call(input: ImportClientInput, method: string, url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${input.baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${input.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : null,
  });
  return answer(res);
}

async function answer(res: Response): Promise<unknown> {
  const data = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; details?: Record<string, unknown> };
  };
  if (!res.ok) {
    const code = data.error?.code ?? 'REQUEST_INVALID';
    throw new KindlingError(code as never, data.error?.message ?? `HTTP ${res.status}`, data.error?.details ?? {});
  }
  return data;
}

async function upload(input: ImportClientInput, id: string, name: string, source: string): Promise<void> {
  const file = path.join(input.dir, name);
  const size = (await fs.stat(file)).size;
  const meter = new ProgressMeter({ source, file: name, total: size, startBytes: 0 }, (e) => input.onProgress?.(e));
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      meter.update(bytes);
      done(null, chunk);
    },
  });
  const body = Readable.toWeb(
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(counter),
  ) as ReadableStream<Uint8Array>;
  const res = await fetch(`${input.baseUrl}/api/mirror/import/${id}/${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${input.token}`,
      'content-type': 'application/octet-stream',
      'content-length': String(size),
    },
    body,
    duplex: 'half',
  } as RequestInit);
  await answer(res);
  meter.update(bytes, true);
}

/**
 * Uploads what the release in `dir` needs, then has the service verify and publish it. Rejects with the service's typed
 * error.
 */
export async function importDirectory(input: ImportClientInput): Promise<SyncOutcome> {
  let names: string[];
  try {
    names = (await fs.readdir(input.dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && isSafeSegment(e.name))
      .map((e) => e.name);
  } catch (err) {
    throw new KindlingError(
      'MIRROR_IMPORT_SOURCE',
      `import ${input.dir}: cannot read the directory ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { dir: input.dir },
    );
  }
  const { upload: id } = (await call(input, 'POST', '/api/mirror/import')) as { upload: string };
  for (const name of names.filter(isMetadata)) await upload(input, id, name, input.source ?? 'import');
  const plan = (await call(
    input,
    'POST',
    `/api/mirror/import/${id}/plan`,
    input.source ? { source: input.source } : {},
  )) as { source: string; version: string; files: string[] };
  // A file missing here is left for the service to refuse, naming it, exactly as it would be for the page.
  for (const name of plan.files.filter((n) => names.includes(n) && !isMetadata(n)))
    await upload(input, id, name, plan.source);
  const { outcome } = (await call(input, 'POST', `/api/mirror/import/${id}/finish`, { source: plan.source })) as {
    outcome: SyncOutcome;
  };
  return outcome;
}
