import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KindlingError } from '../errors.js';
import { classify, type DownloadInput } from './download.js';
import type { RequestOptions } from './http-client.js';
import { isSafeSegment } from './layout.js';
import type { Transport } from './sync-source.js';
import type { MirrorSource } from './types.js';

// Offline import: a release copied from a USB stick in upstream's own layout, read
// through the same sync pipeline (sync-source.ts) with this directory standing in for
// upstream, so it is verified and published exactly as a download is. Every URL the
// adapters build maps to the file of the same base name in the directory:
//   Flatcar   version.txt, flatcar_production_*.{vmlinuz,cpio.gz,bin.bz2} and each .sig
//   FCOS      STREAM.json (e.g. stable.json) and the artifacts it lists, each with .sig

/** The file an upstream URL stands for in an import directory. */
export function importName(url: string, dir: string, source: string): string {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  if (!isSafeSegment(name)) {
    throw new KindlingError(
      'MIRROR_METADATA',
      `mirror source ${source}: import ${dir}: the release ` +
        `names ${JSON.stringify(name)} (from ${url}), which is not a plain file name`,
      { source, dir, url },
    );
  }
  return name;
}

function missing(dir: string, source: string, name: string, err: unknown): KindlingError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'is not there'
      : code === 'EISDIR'
        ? 'is a directory'
        : `cannot be read (${code ?? (err as Error).message})`;
  return new KindlingError(
    'MIRROR_IMPORT_MISSING',
    `mirror source ${source}: import ${dir}: ${name} ${why}; the release needs it (copy the whole release directory)`,
    { source, dir, file: name },
  );
}

export interface DirectoryTransportOptions {
  dir: string;
  /** Rename files into staging instead of copying: for uploads, which are Kindling's own copy already. */
  consume?: boolean;
}

/** A Transport that reads the release from a local directory instead of upstream. */
export function directoryTransport(options: DirectoryTransportOptions): Transport {
  const { dir } = options;
  return {
    async getBytes(url: string, request: RequestOptions & { maxBytes: number }): Promise<Buffer> {
      const name = importName(url, dir, request.source);
      const file = path.join(dir, name);
      const size = await fs.stat(file).then(
        (s) => s.size,
        (err: unknown) => Promise.reject(missing(dir, request.source, name, err)),
      );
      if (size > request.maxBytes) {
        throw new KindlingError(
          'MIRROR_METADATA',
          `mirror source ${request.source}: import ${dir}: ${name} is ${size} ` +
            `bytes; expected at most ${request.maxBytes}`,
          { source: request.source, dir, file: name },
        );
      }
      return fs.readFile(file).catch((err: unknown) => Promise.reject(missing(dir, request.source, name, err)));
    },

    async download(input: DownloadInput): Promise<{ size: number }> {
      const name = importName(input.url, dir, input.source);
      const from = path.join(dir, name);
      const stat = await fs.stat(from).catch((err: unknown) => Promise.reject(missing(dir, input.source, name, err)));
      if (!stat.isFile())
        throw missing(dir, input.source, name, Object.assign(new Error('not a file'), { code: 'EISDIR' }));
      if (options.consume) {
        try {
          await fs.rename(from, input.partial);
          input.onBytes?.(stat.size, stat.size);
          return { size: stat.size };
        } catch {
          // Another file system: copy instead.
        }
      }
      let bytes = 0;
      const counter = new Transform({
        highWaterMark: 1 << 20,
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          input.onBytes?.(bytes, stat.size);
          done(null, chunk);
        },
      });
      input.onBytes?.(0, stat.size);
      try {
        const out = input.writeStream
          ? input.writeStream(input.partial, 'w')
          : createWriteStream(input.partial, { highWaterMark: 1 << 20 });
        await pipeline(
          createReadStream(from, { highWaterMark: 1 << 20 }),
          counter,
          out,
          ...(input.signal ? [{ signal: input.signal }] : []),
        );
        const handle = await fs.open(input.partial, 'r+');
        await handle.sync().finally(() => handle.close());
      } catch (err) {
        await fs.rm(input.partial, { force: true });
        throw classify({ source: input.source, name }, err, bytes, stat.size);
      }
      return { size: bytes };
    },
  };
}

/**
 * The configured source an import directory belongs to: the one named, else the only
 * one whose metadata file is there (version.txt for Flatcar, STREAM.json for FCOS).
 */
export async function chooseImportSource(dir: string, sources: MirrorSource[], named?: string): Promise<MirrorSource> {
  if (named) {
    const found = sources.find((s) => s.name === named);
    if (!found)
      throw new KindlingError(
        'MIRROR_SOURCE_UNKNOWN',
        `no mirror source is named ${named}; expected one ` +
          `of ${sources.map((s) => s.name).join(', ') || '(none configured)'}`,
        { source: named },
      );
    return found;
  }
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new KindlingError(
      'MIRROR_IMPORT_SOURCE',
      `import ${dir}: cannot read the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { dir },
    );
  }
  const held = new Set(names);
  const fits = sources.filter((s) => held.has(s.os === 'flatcar' ? 'version.txt' : `${s.stream}.json`));
  const expected = sources
    .map((s) => `${s.name}: ${s.os === 'flatcar' ? 'version.txt' : `${s.stream}.json`}`)
    .join(', ');
  if (fits.length === 1) return fits[0] as MirrorSource;
  if (fits.length === 0) {
    throw new KindlingError(
      'MIRROR_IMPORT_SOURCE',
      `import ${dir}: expected the metadata file of a configured source ` +
        `(${expected || 'none configured'}), ` +
        `found ${names.slice(0, 12).join(', ') || 'an empty directory'}`,
      { dir },
    );
  }
  throw new KindlingError(
    'MIRROR_IMPORT_SOURCE',
    `import ${dir}: fits the sources ${fits.map((s) => s.name).join(' and ')}; name one (--source NAME)`,
    { dir, sources: fits.map((s) => s.name) },
  );
}
