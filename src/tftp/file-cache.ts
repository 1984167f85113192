// Small files (the iPXE binaries) are read once and shared: 200 machines powering on
// together fetch the same ipxe.efi, and one disk read should serve them all. An entry
// is valid while the file's identity (dev, ino, size, mtime) is unchanged. Entries live
// in shared memory, so transfer threads serve them without a copy of their own.
import { readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';

interface Entry {
  identity: string;
  data: Promise<Buffer>;
  bytes: number;
}

export interface FileCacheStats {
  diskReads: number;
  hits: number;
  bytes: number;
  entries: number;
}

export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private diskReads = 0;
  private hits = 0;

  constructor(
    /** Files larger than this are streamed by positional reads instead. */
    readonly maxFileBytes: number,
    /** Total cached bytes; least recently used entries go first. */
    private readonly maxTotalBytes: number,
  ) {}

  fits(size: number): boolean {
    return size <= this.maxFileBytes;
  }

  /** The file's bytes, passed through `transform` (e.g. netascii) once per variant. */
  get(path: string, stats: Stats, variant = '', transform?: (data: Buffer) => Buffer): Promise<Buffer> {
    const key = variant === '' ? path : `${path}\0${variant}`;
    const identity = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    const existing = this.entries.get(key);
    if (existing !== undefined && existing.identity === identity) {
      this.hits++;
      // Re-insert to mark it most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing.data;
    }
    if (existing !== undefined) this.drop(key, existing);
    this.diskReads++;
    const data = readFile(path).then((raw) => toShared(transform === undefined ? raw : transform(raw)));
    const entry: Entry = { identity, data, bytes: stats.size };
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    // A failed read must not stay cached, or the file would fail until restart.
    data.catch(() => {
      if (this.entries.get(key) === entry) this.drop(key, entry);
    });
    this.evict();
    return data;
  }

  stats(): FileCacheStats {
    return { diskReads: this.diskReads, hits: this.hits, bytes: this.bytes, entries: this.entries.size };
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxTotalBytes || this.entries.size <= 1) break;
      // Transfers already holding the buffer keep it alive; eviction only stops new sharing.
      this.drop(key, entry);
    }
  }
}

/** The bytes in a SharedArrayBuffer: posting a view of it to a thread shares it, never copies. */
function toShared(data: Buffer): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(data.length));
  data.copy(shared);
  return shared;
}
