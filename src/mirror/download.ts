import { createWriteStream, promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, type Writable } from 'node:stream';
import { KindlingError } from '../errors.js';
import { get, upstreamError, type UpstreamNetwork } from './http-client.js';

export type WriteStreamFactory = (file: string, flags: 'a' | 'w') => Writable;

export interface DownloadInput {
  source: string;
  name: string;
  url: string;
  /** The .partial file; its length is where a resumed download starts. */
  partial: string;
  idleTimeoutMs?: number;
  /** Called with the bytes held so far and the full length when known. */
  onBytes?: (bytes: number, total: number | null) => void;
  signal?: AbortSignal;
  network?: UpstreamNetwork;
  /** Where bytes are written; tests inject a failing disk here. */
  writeStream?: WriteStreamFactory;
}

const defaultWriteStream: WriteStreamFactory = (file, flags) =>
  createWriteStream(file, { flags, highWaterMark: 1 << 20 });

/**
 * Downloads `url` into `partial`, continuing from what is already there with an HTTP
 * Range request (RFC 9110 §14). An upstream that ignores Range answers 200 and the
 * file starts over. The data is fsynced before this resolves.
 */
export async function download(input: DownloadInput, restarted = false): Promise<{ size: number }> {
  const held = await fs.stat(input.partial).then(
    (s) => s.size,
    () => 0,
  );
  const response = await get(input.url, {
    source: input.source,
    file: input.name,
    headers: held > 0 ? { range: `bytes=${held}-` } : {},
    ...(input.idleTimeoutMs ? { idleTimeoutMs: input.idleTimeoutMs } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.network ? { network: input.network } : {}),
  });
  const status = response.statusCode ?? 0;
  let start = 0;
  let total: number | null = null;
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range'] ?? '');
    if (!range || Number(range[1]) !== held) {
      response.resume();
      if (restarted)
        throw upstreamError(
          { source: input.source, file: input.name },
          input.url,
          `expected Content-Range starting at ${held}, got ${response.headers['content-range'] ?? 'none'}`,
        );
      await fs.rm(input.partial, { force: true });
      return download(input, true);
    }
    start = held;
    total = range[3] === '*' ? null : Number(range[3]);
  } else if (status === 416 && held > 0 && !restarted) {
    response.resume();
    const whole = /^bytes \*\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    if (whole && Number(whole[1]) === held) return { size: held };
    await fs.rm(input.partial, { force: true });
    return download(input, true);
  } else if (status === 200) {
    const length = response.headers['content-length'];
    total = length !== undefined ? Number(length) : null;
  } else {
    response.resume();
    throw upstreamError(
      { source: input.source, file: input.name },
      input.url,
      `expected HTTP 200 or 206, got ${status}`,
      status,
    );
  }

  let bytes = start;
  const counter = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      input.onBytes?.(bytes, total);
      done(null, chunk);
    },
  });
  input.onBytes?.(bytes, total);
  await copyKeepingWhatArrived(
    response,
    counter,
    (input.writeStream ?? defaultWriteStream)(input.partial, start > 0 ? 'a' : 'w'),
  ).catch((err) => {
    throw classify({ source: input.source, name: input.name, url: input.url }, err, bytes, total);
  });
  if (total !== null && bytes !== total) {
    throw new KindlingError(
      'MIRROR_TRUNCATED',
      `mirror source ${input.source}: ${input.name}: ${input.url}: expected ${total} bytes, the body ended at ${bytes}`,
      { source: input.source, file: input.name, url: input.url, expected: total, found: bytes },
    );
  }
  await fsyncFile(input.partial, input);
  return { size: bytes };
}

/**
 * Like pipeline(), except that when the upstream connection breaks, everything that did
 * arrive is still written out (pipeline would destroy the file stream with writes
 * pending), so the next attempt resumes from the true end of the .partial file.
 */
function copyKeepingWhatArrived(response: IncomingMessage, counter: Transform, out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let readError: Error | null = null;
    let ended = false;
    const endOut = (): void => {
      if (ended) return;
      ended = true;
      counter.end();
    };
    response.on('error', (err) => {
      readError ??= err;
      endOut();
    });
    response.on('close', () => {
      if (!response.complete) {
        readError ??= Object.assign(new Error('the connection closed before the body ended'), { code: 'ECONNRESET' });
        endOut();
      }
    });
    response.on('end', () => {
      ended = true;
    });
    out.on('error', (err) => {
      response.destroy();
      reject(err);
    });
    out.on('finish', () => (readError ? reject(readError) : resolve()));
    response.pipe(counter).pipe(out);
  });
}

async function fsyncFile(file: string, where: { source: string; name: string }): Promise<void> {
  try {
    const handle = await fs.open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw classify(where, err, 0, null);
  }
}

export function classify(
  where: { source: string; name: string; url?: string },
  err: unknown,
  bytes: number,
  total: number | null,
): KindlingError {
  if (err instanceof KindlingError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const details = { source: where.source, file: where.name, ...(where.url ? { url: where.url } : {}) };
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new KindlingError(
      'MIRROR_DISK_FULL',
      `mirror source ${where.source}: ${where.name}: the disk filled up after ${bytes} ` +
        `bytes${total !== null ? ` of ${total}` : ''}; free space in the data directory and sync again`,
      details,
    );
  }
  if (code && /^E(ACCES|PERM|ROFS|IO|ISDIR|NOTDIR|MFILE|NFILE|FBIG)$/.test(code)) {
    return new KindlingError(
      'MIRROR_WRITE',
      `mirror source ${where.source}: ${where.name}: cannot write (${code}: ${(err as Error).message})`,
      details,
    );
  }
  return new KindlingError(
    'MIRROR_TRUNCATED',
    `mirror source ${where.source}: ${where.name}: ${where.url ?? ''}: the download broke ` +
      `off after ${bytes} bytes${total !== null ? ` of ${total}` : ''} ` +
      `(${code ?? (err as Error).message}); the next attempt resumes from there`,
    details,
  );
}
