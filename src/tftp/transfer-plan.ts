// What a negotiated read needs to run, and the one way to open it: the main thread and
// the transfer threads both start transfers from a plan, so both open the file, bind
// the transfer's socket and release them on failure the same way.
import type { Socket } from 'node:dgram';
import { BufferSource, FileSource, type BlockSource } from './block-source.js';
import type { RetransmitPolicy } from './retransmit.js';
import { ReadTransfer, type ReadTransferOptions } from './transfer.js';
import { bindEphemeral } from './udp.js';

/** Plain data, so it crosses into a thread as it is (byte arrays arrive as Uint8Array). */
export interface TransferPlan {
  /** The file to read in chunks, or null when `shared` holds its bytes. */
  path: string | null;
  /** A cached file's bytes: a view of the cache's SharedArrayBuffer, never a copy. */
  shared: Uint8Array | null;
  size: number;
  listen: string;
  peer: { address: string; port: number };
  blksize: number;
  windowsize: number;
  /** Encoded OACK to send first, or null to start with DATA 1. */
  oack: Uint8Array | null;
  clientTimeoutMs: number | null;
  retransmit: RetransmitPolicy;
  /** The transfer's longest life (config `tftp.maxTransferSeconds`). */
  maxLifetimeMs: number;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Opens the plan's file and a socket on a fresh port; nothing is left open if either fails. Not started. */
export async function openReadTransfer(
  plan: TransferPlan,
  makeSocket: () => Socket,
  hooks: Pick<ReadTransferOptions, 'onEnd' | 'onProgress'>,
): Promise<ReadTransfer> {
  const source: BlockSource =
    plan.shared !== null
      ? new BufferSource(asBuffer(plan.shared))
      : await FileSource.open(plan.path!, plan.size, plan.blksize * plan.windowsize);
  const socket = makeSocket();
  try {
    await bindEphemeral(socket, plan.listen); // closes the socket if it fails
  } catch (err) {
    await source.close().catch(() => undefined);
    throw err;
  }
  return new ReadTransfer({
    socket,
    peer: plan.peer,
    source,
    blksize: plan.blksize,
    windowsize: plan.windowsize,
    oack: plan.oack === null ? null : asBuffer(plan.oack),
    clientTimeoutMs: plan.clientTimeoutMs,
    retransmit: plan.retransmit,
    maxLifetimeMs: plan.maxLifetimeMs,
    ...hooks,
  });
}
