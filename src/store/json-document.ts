import { promises as fs } from 'node:fs';
import { KindlingError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';

/** Reads a JSON document written by `JsonDocument`; a missing file gives `fallback`. */
export async function readJsonFile<T>(file: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new KindlingError(
      'STORE_CORRUPT',
      `${file}: state document does not parse as JSON (${(err as Error).message}); move it aside to start fresh`,
      { file },
    );
  }
}

export interface JsonDocumentOptions {
  file: string;
  /** Changes within this window share one write: an SD card wears out, so no write per request. */
  coalesceMs?: number;
  mode?: number;
}

/**
 * One small state document. `update` marks it dirty and schedules one atomic write
 * for all changes in the window; `flush` writes now and resolves when the data is on
 * disk. Writes never overlap, so the newest data always wins.
 */
export class JsonDocument<T> {
  private readonly file: string;
  private readonly coalesceMs: number;
  private readonly mode: number;
  private value: T;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  constructor(options: JsonDocumentOptions, initial: T) {
    this.file = options.file;
    this.coalesceMs = options.coalesceMs ?? 250;
    this.mode = options.mode ?? 0o600;
    this.value = initial;
  }

  static async open<T>(options: JsonDocumentOptions, fallback: T): Promise<JsonDocument<T>> {
    return new JsonDocument(options, await readJsonFile(options.file, fallback));
  }

  get data(): T {
    return this.value;
  }

  /** Replaces the value and schedules a write; the promise resolves once it is durable. */
  set(value: T): Promise<void> {
    this.value = value;
    return this.schedule();
  }

  /** Records that `data` was mutated in place and schedules a write. */
  touch(): Promise<void> {
    return this.schedule();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return this.dirty ? this.write() : this.writing;
  }

  private schedule(): Promise<void> {
    this.dirty = true;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    done.catch(() => undefined); // callers that do not await still get errors through the next flush
    if (!this.timer) this.timer = setTimeout(() => void this.write().catch(() => undefined), this.coalesceMs);
    return done;
  }

  private write(): Promise<void> {
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    this.dirty = false;
    const text = JSON.stringify(this.value, null, 1) + '\n';
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.file, text, this.mode))
      .then(
        () => waiters.forEach((w) => w.resolve()),
        (err) => {
          this.dirty = true; // keep the data; the next write tries again
          waiters.forEach((w) => w.reject(err));
          throw err;
        },
      );
    return this.writing;
  }
}
