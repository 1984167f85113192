// Durable lease records: an append-only JSON-lines journal with group commit. A lease
// must be on disk before its ACK leaves (a restart or kill -9 must never hand one
// address to two machines), but ISC dhcpd's fsync per ACK and dnsmasq's rewrite of the
// whole file per change are what make them slow and wear an SD card. Here every record
// that arrives while a write+fdatasync is in flight waits for the next one, so a
// storm of leases shares a handful of syncs. The journal is rewritten atomically from
// the live table when it has grown well past it.
import { promises as fs, constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../store/index.js';

export type JournalRecord =
  | { t: 'bind'; mac: string; ip: string; exp: number; host?: string | null }
  | { t: 'release'; mac: string; ip: string; at: number }
  | { t: 'decline'; ip: string; until: number };

export interface JournalStats {
  records: number;
  syncs: number;
  compactions: number;
  /** Slowest write+fdatasync seen, in ms: what an ACK can wait for the disk. */
  maxSyncMs: number;
}

/** The journal is compacted when it holds this many records more than the live table. */
const COMPACT_SLACK = 2000;

export class LeaseJournal {
  readonly stats: JournalStats = { records: 0, syncs: 0, compactions: 0, maxSyncMs: 0 };
  private handle: FileHandle | null;
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private running: Promise<void> | null = null;
  private linesInFile: number;
  private closed = false;

  private constructor(
    private readonly file: string,
    handle: FileHandle,
    lines: number,
    private readonly snapshot: () => JournalRecord[],
  ) {
    this.handle = handle;
    this.linesInFile = lines;
  }

  /** Reads every intact record (a torn last line after a crash is skipped), then opens for append. */
  static async open(file: string, snapshot: () => JournalRecord[]): Promise<{ journal: LeaseJournal; records: JournalRecord[] }> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const records: JournalRecord[] = [];
    let lines = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      lines++;
      try {
        const r = JSON.parse(line) as JournalRecord;
        if (r && typeof r === 'object' && typeof r.t === 'string') records.push(r);
      } catch {
        // a torn final line: everything before it was synced whole
      }
    }
    if (text.length > 0 && !text.endsWith('\n')) {
      // Start the next append on a fresh line after a torn one.
      await fs.appendFile(file, '\n');
    }
    const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
    return { journal: new LeaseJournal(file, handle, lines, snapshot), records };
  }

  /** Resolves once the record is on disk (written and fdatasync'd). */
  append(record: JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('lease journal is closed'));
    this.pending.push(JSON.stringify(record) + '\n');
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) this.running = this.drain();
    return done;
  }

  async close(): Promise<void> {
    while (this.running) await this.running;
    this.closed = true;
    await this.handle?.close();
    this.handle = null;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending.join('');
        const waiters = this.waiters;
        const count = this.pending.length;
        this.pending = [];
        this.waiters = [];
        try {
          const h = this.handle;
          if (!h) throw new Error('lease journal is closed');
          const started = performance.now();
          await h.write(chunk);
          await h.datasync();
          this.stats.maxSyncMs = Math.max(this.stats.maxSyncMs, Math.round(performance.now() - started));
          this.stats.syncs++;
          this.stats.records += count;
          this.linesInFile += count;
          waiters.forEach((w) => w.resolve());
        } catch (err) {
          waiters.forEach((w) => w.reject(err));
        }
        await this.maybeCompact();
      }
    } finally {
      this.running = null;
    }
  }

  private async maybeCompact(): Promise<void> {
    const live = this.snapshot();
    if (this.linesInFile < live.length + COMPACT_SLACK) return;
    try {
      // The snapshot is taken from memory, which is ahead of the file: records still
      // pending are replayed on top of it and are idempotent.
      await writeFileAtomic(this.file, live.map((r) => JSON.stringify(r) + '\n').join(''));
      await this.handle?.close();
      this.handle = await fs.open(this.file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
      this.linesInFile = live.length;
      this.stats.compactions++;
    } catch {
      // Compaction is an optimisation; the journal stays correct without it.
    }
  }
}
