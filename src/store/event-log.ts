import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface EventLogOptions {
  file: string;
  /** When the log passes this size it is rotated to FILE.1 (one generation kept). */
  maxBytes?: number;
  /** Owner-only by default. */
  mode?: number;
}

/**
 * An append-only JSON-lines log with a size cap. Lines are buffered and appended in
 * one write per tick, so a storm of events costs one write, not one per event. A
 * crash can at worst leave a torn last line, which `readAll` skips.
 */
export class EventLog<T> {
  private readonly file: string;
  private readonly maxBytes: number;
  private readonly mode: number;
  private pending: string[] = [];
  private size = -1;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Appends that failed (ENOSPC, EIO) since the start; the lines stay queued for the next try. */
  failures = 0;
  lastError: string | null = null;

  constructor(options: EventLogOptions) {
    this.file = options.file;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.mode = options.mode ?? 0o600;
  }

  append(entry: T): void {
    this.pending.push(JSON.stringify(entry) + '\n');
    // A full or failing disk must not end the process: the failure is counted and
    // reported (/healthz), and the lines wait in memory for the next append or flush.
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain
      .then(() => new Promise((r) => setImmediate(r)))
      .then(() => {
        this.scheduled = false;
        return this.drain();
      })
      .catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.failures += 1;
    this.lastError = (err as Error).message;
  }

  /** Writes what is queued now; rejects if the disk refuses it (the lines stay queued). */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch((err: unknown) => this.failed(err));
    return run;
  }

  /** Every entry in both generations, oldest first. */
  async readAll(): Promise<T[]> {
    const out: T[] = [];
    for (const f of [`${this.file}.1`, this.file]) {
      let text: string;
      try {
        text = await fs.readFile(f, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          out.push(JSON.parse(line) as T);
        } catch {
          // a torn final line after a crash: the entries before it are intact
        }
      }
    }
    return out;
  }

  private async drain(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    const chunk = lines.join('');
    this.pending = [];
    try {
      await this.write(chunk);
    } catch (err) {
      // Kept, oldest first, up to the log's own cap, so nothing is lost while the disk is full.
      this.pending = [...lines, ...this.pending];
      while (this.pending.length > 1 && this.pending.reduce((n, l) => n + l.length, 0) > this.maxBytes)
        this.pending.shift();
      throw err;
    }
    this.lastError = null;
  }

  private async write(chunk: string): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    if (this.size < 0) {
      this.size = await fs.stat(this.file).then(
        (s) => s.size,
        () => 0,
      );
      // Events name machines, addresses and callback outcomes; a log an older version wrote 0644 is tightened.
      if (this.size > 0) await fs.chmod(this.file, this.mode);
      await fs.chmod(`${this.file}.1`, this.mode).catch(() => undefined);
    }
    if (this.size + chunk.length > this.maxBytes && this.size > 0) {
      await fs.rename(this.file, `${this.file}.1`);
      this.size = 0;
    }
    await fs.appendFile(this.file, chunk, { mode: this.mode });
    this.size += Buffer.byteLength(chunk);
  }
}
