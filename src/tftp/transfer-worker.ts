// A transfer thread: runs ReadTransfers for the pool in transfer-pool.ts. Each transfer
// has its own socket (and, for an uncached file, its own file handle) here, exactly as on
// the main thread; only its start, end and the server's abort/repeat requests cross the
// thread boundary.
import { parentPort } from 'node:worker_threads';
import type { ReadTransfer } from './transfer.js';
import { openReadTransfer } from './transfer-plan.js';
import { udp4 } from './udp.js';
import type { FromWorker, ToWorker, WorkerStart } from './transfer-pool.js';

const port = parentPort!;
interface Slot {
  transfer: ReadTransfer | null;
  /** An abort that arrived while the transfer was still opening its file and socket. */
  aborted: { reason: string; tellClient: boolean } | null;
}
const slots = new Map<number, Slot>();
const post = (message: FromWorker): void => port.postMessage(message);

async function start(m: WorkerStart): Promise<void> {
  const slot: Slot = { transfer: null, aborted: null };
  slots.set(m.id, slot);
  try {
    slot.transfer = await openReadTransfer(m, udp4, {
      onProgress: () => post({ type: 'progress', id: m.id }),
      onEnd: (result) => {
        slots.delete(m.id);
        post({ type: 'end', id: m.id, result });
      },
    });
  } catch (err) {
    slots.delete(m.id);
    post({ type: 'failed', id: m.id, message: (err as Error).message });
    return;
  }
  if (slot.aborted !== null) void slot.transfer.abort(slot.aborted.reason, slot.aborted.tellClient);
  else slot.transfer.start();
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    void start(m);
    return;
  }
  const slot = slots.get(m.id);
  if (slot === undefined) return;
  if (m.type === 'abort') {
    if (slot.transfer === null) slot.aborted ??= { reason: m.reason, tellClient: m.tellClient };
    else void slot.transfer.abort(m.reason, m.tellClient);
  } else slot.transfer?.repeatStart();
});
post({ type: 'ready' });
