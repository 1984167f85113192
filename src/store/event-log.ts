import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface EventLogOptions {
  file: string;
  /** When the log passes this size it is rotated to FILE.1 (one generation kept). */
  maxBytes?: number;
}

/**
 * An append-only JSON-lines log with a size cap. Lines are buffered and appended in
 * one write per tick, so a storm of events costs one write, not one per event. A
 * crash can at worst leave a torn last line, which `readAll` skips.
 */
export class EventLog<T> {
  private readonly file: string;
  private readonly maxBytes: number;
  private pending: string[] = [];
  private size = -1;
  private chain: Promise<void> = Promise.resolve();

  constructor(options: EventLogOptions) {
    this.file = options.file;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  append(entry: T): void {
    this.pending.push(JSON.stringify(entry) + '\n');
    if (this.pending.length === 1) this.chain = this.chain.then(() => new Promise((r) => setImmediate(r))).then(() => this.drain());
  }

  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Every entry in both generations, oldest first. */
  async readAll(): Promise<T[]> {
    const out: T[] = [];
    for (const f of [`${this.file}.1`, this.file]) {
      let text = '';
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
    const chunk = this.pending.join('');
    this.pending = [];
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    if (this.size < 0) this.size = await fs.stat(this.file).then((s) => s.size, () => 0);
    if (this.size + chunk.length > this.maxBytes && this.size > 0) {
      await fs.rename(this.file, `${this.file}.1`);
      this.size = 0;
    }
    await fs.appendFile(this.file, chunk);
    this.size += Buffer.byteLength(chunk);
  }
}
