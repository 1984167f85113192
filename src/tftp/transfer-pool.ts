// Transfer threads. A lock-step transfer costs one ACK wake-up and one send per block,
// mostly in the kernel; on one thread every transfer waits behind the others whenever
// that thread is descheduled, and it can never use a second core. tftpd-hpa forks a
// process per transfer; Kindling spreads transfers over a few worker threads instead
// (docs/tftp.md, docs/benchmarks.md). Cached small files travel as views of the
// cache's shared memory, so a whole boot storm is still served from one copy.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TransferPlan } from './transfer-plan.js';
import type { TransferHandle, TransferResult } from './transfer.js';

export interface WorkerStart extends TransferPlan {
  type: 'start';
  id: number;
}

export type ToWorker =
  WorkerStart | { type: 'abort'; id: number; reason: string; tellClient: boolean } | { type: 'repeat'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number }
  | { type: 'end'; id: number; result: TransferResult }
  | { type: 'failed'; id: number; message: string };

export interface PoolTransferHooks {
  onEnd: (result: TransferResult) => void;
  /** The file or socket could not be opened; nothing was sent to the client. */
  onFailed: (err: Error) => void;
}

/**
 * Compiled builds run the .js beside this file. From source (tsx, vitest) the thread first
 * registers tsx's loader itself: Node 20 does not apply `--import tsx` to a worker's entry.
 */
function newWorker(): Worker {
  const js = new URL('./transfer-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  // The ESM build of tsx's API: its CommonJS build cannot register hooks from a worker.
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsx = pathToFileURL(api).href;
  const entry = new URL('./transfer-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true },
  );
}

class PoolThread {
  readonly transfers = new Map<number, RemoteTransfer>();
  readonly worker: Worker;
  readonly ready: Promise<void>;
  isReady = false;

  constructor(onExit: (thread: PoolThread, err: Error) => void) {
    this.worker = newWorker();
    // Idle threads must not keep the process alive; running transfers are held by the server.
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('message', () => {
        this.worker.off('error', reject);
        this.isReady = true;
        resolve();
      });
    });
    // Awaited by TransferPool.start; a replacement thread's failure is handled by onExit.
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') return;
      const transfer = this.transfers.get(m.id);
      if (transfer === undefined) return;
      if (m.type === 'progress') transfer.progressed = true;
      else {
        this.transfers.delete(m.id);
        transfer.settle(m.type === 'end' ? m.result : new Error(m.message));
      }
    });
    this.worker.on('error', (err) => onExit(this, err));
    this.worker.on('exit', (code) => onExit(this, new Error(`transfer thread exited with code ${code}`)));
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}

/** The main thread's view of a transfer running on a pool thread. */
export class RemoteTransfer implements TransferHandle {
  progressed = false;
  private settled = false;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly thread: PoolThread,
    private readonly id: number,
    private readonly hooks: PoolTransferHooks,
  ) {
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  }

  get hasProgress(): boolean {
    return this.progressed;
  }

  repeatStart(): void {
    if (!this.settled) this.thread.post({ type: 'repeat', id: this.id });
  }

  abort(reason: string, tellClient = true): Promise<void> {
    if (!this.settled) this.thread.post({ type: 'abort', id: this.id, reason, tellClient });
    return this.done;
  }

  settle(outcome: TransferResult | Error): void {
    if (this.settled) return;
    this.settled = true;
    if (outcome instanceof Error) this.hooks.onFailed(outcome);
    else this.hooks.onEnd(outcome);
    this.resolveDone();
  }
}

export class TransferPool {
  private readonly threads: PoolThread[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly size: number) {}

  /** Starts `size` threads and waits until each has loaded, so the first transfer does not pay for it. */
  static async start(size: number): Promise<TransferPool> {
    const pool = new TransferPool(size);
    for (let i = 0; i < size; i++) pool.spawn();
    try {
      await Promise.all(pool.threads.map((t) => t.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get threadCount(): number {
    return this.threads.length;
  }

  /** Null when no thread is left (the caller runs the transfer itself). */
  run(plan: TransferPlan, hooks: PoolTransferHooks): RemoteTransfer | null {
    if (this.closed || this.threads.length === 0) return null;
    // The thread with the fewest transfers; ties go to the first.
    let thread = this.threads[0]!;
    for (const t of this.threads) if (t.transfers.size < thread.transfers.size) thread = t;
    const id = this.nextId++;
    const transfer = new RemoteTransfer(thread, id, hooks);
    thread.transfers.set(id, transfer);
    thread.post({ ...plan, type: 'start', id });
    return transfer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): void {
    const thread = new PoolThread((dead, err) => this.lost(dead, err));
    this.threads.push(thread);
  }

  /** A thread died (a bug, or out of memory): its transfers fail, and a fresh thread takes its place. */
  private lost(thread: PoolThread, err: Error): void {
    const at = this.threads.indexOf(thread);
    if (at < 0) return;
    this.threads.splice(at, 1);
    for (const transfer of thread.transfers.values())
      transfer.settle({ ok: false, reason: `transfer thread failed: ${err.message}`, bytes: 0 });
    thread.transfers.clear();
    if (!this.closed) {
      void thread.worker.terminate();
      // Only a thread that had loaded is replaced: one that cannot load would fail forever.
      if (thread.isReady && this.threads.length < this.size) this.spawn();
    }
  }
}
