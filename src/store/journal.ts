// An append-only JSON-lines journal with group commit and compaction. Rewriting a
// whole state document per change is what wore the SD card (the audit: 1,000 new MACs
// wrote 950 MB); appending one line per change costs the change's own bytes. Every
// record that arrives while a write+fdatasync is in flight waits for the next one, so
// a storm of changes shares a handful of syncs. When the file has grown well past the
// live state it is rewritten atomically from a snapshot of memory.
import { promises as fs, constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export interface JournalStats {
  records: number;
  syncs: number;
  compactions: number;
  /** Bytes appended, and bytes rewritten by compactions: together what the journal wrote. */
  bytes: number;
  compactedBytes: number;
  /** Slowest write+fdatasync seen, in ms: what a caller can wait for the disk. */
  maxSyncMs: number;
}

export interface JournalOptions<R> {
  file: string;
  /** The live state as records; replaying it alone must give the state in memory. */
  snapshot: () => R[];
  /** Records read back that fail this are skipped (a line from a newer or broken writer). */
  accept: (value: unknown) => value is R;
  /** Compact when the file holds this many lines more than the snapshot has records. */
  slack: (liveRecords: number) => number;
  /** Holds tokens and leases: owner-only by default. */
  mode?: number;
  /** Used in error messages: "lease journal", "machine journal". */
  label?: string;
}

export class Journal<R> {
  readonly stats: JournalStats = { records: 0, syncs: 0, compactions: 0, bytes: 0, compactedBytes: 0, maxSyncMs: 0 };
  /** Writes that failed since the start, and the last reason (null once a write succeeds). */
  failures = 0;
  lastError: string | null = null;
  private handle: FileHandle | null;
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private running: Promise<void> | null = null;
  private linesInFile: number;
  /** A failed write lost lines from the file (memory still has them): the next compaction restores them. */
  private mustCompact = false;
  /** A failed write may have left half a line: the next chunk starts on a new one. */
  private newLineFirst = false;
  private closed = false;

  private constructor(
    private readonly options: JournalOptions<R> & { mode: number; label: string },
    handle: FileHandle,
    lines: number,
  ) {
    this.handle = handle;
    this.linesInFile = lines;
  }

  /** Reads every intact record (a torn last line after a crash is skipped), then opens for append. */
  static async open<R>(options: JournalOptions<R>): Promise<{ journal: Journal<R>; records: R[] }> {
    const opts = { ...options, mode: options.mode ?? 0o600, label: options.label ?? 'journal' };
    const { file } = opts;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
      // A file written by an older version may be world-readable; it holds the same secrets.
      await fs.chmod(file, opts.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const { records, lines } = parseJournal(text, opts.accept);
    if (text.length > 0 && !text.endsWith('\n')) {
      // Start the next append on a fresh line after a torn one.
      await fs.appendFile(file, '\n');
    }
    const handle = await openAppend(file, opts.mode);
    return { journal: new Journal(opts, handle, lines), records };
  }

  /** Resolves once the record is on disk (written and fdatasync'd). */
  append(record: R): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.options.label} ${this.options.file} is closed`));
    this.pending.push(JSON.stringify(record) + '\n');
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) this.running = this.drain();
    return done;
  }

  /** Resolves when everything appended so far has been written (or has failed). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
    if (this.mustCompact) await this.compact();
  }

  async close(): Promise<void> {
    await this.settle();
    this.closed = true;
    await this.handle?.close();
    this.handle = null;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const chunk = (this.newLineFirst ? '\n' : '') + this.pending.join('');
        const waiters = this.waiters;
        const count = this.pending.length;
        this.pending = [];
        this.waiters = [];
        try {
          const h = this.handle;
          if (!h) throw new Error(`${this.options.label} ${this.options.file} is closed`);
          const started = performance.now();
          await h.write(chunk);
          await h.datasync();
          this.stats.maxSyncMs = Math.max(this.stats.maxSyncMs, Math.round(performance.now() - started));
          this.stats.syncs++;
          this.stats.records += count;
          this.stats.bytes += Buffer.byteLength(chunk);
          this.linesInFile += count;
          this.lastError = null;
          this.newLineFirst = false;
          waiters.forEach((w) => w.resolve());
        } catch (err) {
          // A partial write may have left a torn line; the rewrite from memory replaces it.
          this.failures++;
          this.lastError = (err as Error).message;
          this.mustCompact = true;
          this.newLineFirst = true;
          waiters.forEach((w) => w.reject(err));
        }
        await this.maybeCompact();
      }
    } finally {
      this.running = null;
    }
  }

  private async maybeCompact(): Promise<void> {
    const live = this.options.snapshot().length;
    if (this.mustCompact || this.linesInFile >= live + this.options.slack(live)) await this.compact();
  }

  private async compact(): Promise<void> {
    const live = this.options.snapshot();
    try {
      // The snapshot is taken from memory, which is ahead of the file: records still
      // pending are replayed on top of it and are idempotent.
      const text = live.map((r) => JSON.stringify(r) + '\n').join('');
      await writeFileAtomic(this.options.file, text, this.options.mode);
      await this.handle?.close();
      this.handle = await openAppend(this.options.file, this.options.mode);
      this.linesInFile = live.length;
      this.stats.compactions++;
      this.stats.compactedBytes += Buffer.byteLength(text);
      this.mustCompact = false;
      this.newLineFirst = false;
      this.lastError = null;
    } catch (err) {
      // Without a compaction the journal is still correct, only longer; after a failed
      // write it is retried with the next append or settle().
      if (this.mustCompact) {
        this.failures++;
        this.lastError = (err as Error).message;
      }
    }
  }
}

/** Every intact record of a journal's text; a torn or foreign line is skipped, the rest kept. */
export function parseJournal<R>(text: string, accept: (value: unknown) => value is R): { records: R[]; lines: number } {
  const records: R[] = [];
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    lines++;
    try {
      const r: unknown = JSON.parse(line);
      if (accept(r)) records.push(r);
    } catch {
      // a torn final line: everything before it was synced whole
    }
  }
  return { records, lines };
}

function openAppend(file: string, mode: number): Promise<FileHandle> {
  return fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, mode);
}
