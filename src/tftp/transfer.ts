// One read transfer on its own socket (RFC 1350 section 4: a fresh TID per transfer),
// sending windows of DATA (RFC 7440; a window of 1 is RFC 1350 lock-step). Every window
// slot is a preallocated packet buffer, so steady state allocates nothing per packet,
// and a timeout resends the slots as they are.
import type { Socket, RemoteInfo } from 'node:dgram';
import type { BlockSource } from './block-source.js';
import {
  DATA_HEADER_BYTES,
  Opcode,
  TftpErrorCode,
  encodeError,
  readBlock,
  readOpcode,
  writeDataHeader,
} from './packet.js';
import { retransmitDelay, type RetransmitPolicy } from './retransmit.js';

export interface TransferResult {
  ok: boolean;
  reason: string;
  bytes: number;
}

/** What the server needs of a running transfer, on this thread or on a pool thread. */
export interface TransferHandle {
  readonly hasProgress: boolean;
  repeatStart(): void;
  abort(reason: string, tellClient?: boolean): Promise<void>;
}

export interface ReadTransferOptions {
  socket: Socket;
  peer: { address: string; port: number };
  source: BlockSource;
  blksize: number;
  windowsize: number;
  /** Encoded OACK to send first, or null to start with DATA 1 (RFC 2347 section 3). */
  oack: Buffer | null;
  clientTimeoutMs: number | null;
  retransmit: RetransmitPolicy;
  /**
   * The transfer ends with an error this long after start(), however it is going (config
   * `tftp.maxTransferSeconds`): a client that ACKs just often enough cannot keep its slot.
   * Unset: no limit.
   */
  maxLifetimeMs?: number;
  onEnd: (result: TransferResult) => void;
  /** Called once, at the first ACK that moves the transfer on (hasProgress turns true). */
  onProgress?: () => void;
}

// Built once: these go to strangers and misbehaving peers, never per-transfer state.
const UNKNOWN_TID = encodeError(TftpErrorCode.UNKNOWN_TID, 'unknown transfer ID');
const ILLEGAL_OP = encodeError(TftpErrorCode.ILLEGAL_OPERATION, 'expected an ACK');
const TOO_LONG = encodeError(TftpErrorCode.NOT_DEFINED, 'transfer took too long');
const TOO_MANY_RESENDS = encodeError(TftpErrorCode.NOT_DEFINED, 'too many retransmissions');

export class ReadTransfer implements TransferHandle {
  private readonly socket: Socket;
  private readonly peerAddress: string;
  private readonly peerPort: number;
  private readonly source: BlockSource;
  private readonly blksize: number;
  private readonly lastBlock: number;
  private readonly slots: Buffer[];
  private readonly slotBytes: number[];
  private readonly options: ReadTransferOptions;
  /** Highest block acknowledged, counted without rollover; -1 while an OACK awaits ACK 0. */
  private acked: number;
  /** Highest block in the window on the wire. */
  private sent: number;
  private windowStart = 0;
  private windowCount = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDelay = -1;
  private lifetimeTimer: NodeJS.Timeout | null = null;
  /**
   * Resends left for the whole transfer. The per-window count starts again at every ACK
   * and every repeated RRQ, so without this a client repeating its RRQ and never ACKing
   * would be answered for as long as it liked; two tries a window is ample for a lossy link.
   */
  private resendsLeft: number;
  private readonly resendBudget: number;
  private reading = false;
  private ended = false;
  /** Settles once the socket and the file are released and onEnd has run. */
  private finished: Promise<void> = Promise.resolve();
  private readonly onTimeout = (): void => this.timeout();

  constructor(options: ReadTransferOptions) {
    this.options = options;
    this.socket = options.socket;
    this.peerAddress = options.peer.address;
    this.peerPort = options.peer.port;
    this.source = options.source;
    this.blksize = options.blksize;
    // A file that is an exact multiple of blksize ends with an empty block (RFC 1350 section 6).
    this.lastBlock = Math.floor(options.source.size / options.blksize) + 1;
    const slotCount = Math.min(options.windowsize, this.lastBlock);
    this.slots = Array.from({ length: slotCount }, () => Buffer.allocUnsafe(DATA_HEADER_BYTES + options.blksize));
    this.slotBytes = new Array<number>(slotCount).fill(0);
    this.acked = options.oack === null ? 0 : -1;
    this.sent = 0;
    this.resendBudget = options.retransmit.retries + 2 * Math.ceil(this.lastBlock / slotCount);
    this.resendsLeft = this.resendBudget;
    this.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.receive(msg, rinfo));
    this.socket.on('error', (err: Error) => this.end(false, `socket error: ${err.message}`));
  }

  start(): void {
    const lifetime = this.options.maxLifetimeMs;
    if (lifetime !== undefined) {
      this.lifetimeTimer = setTimeout(() => {
        if (this.ended) return;
        this.sendRaw(TOO_LONG);
        this.end(false, `still running after ${lifetime / 1000} s (tftp.maxTransferSeconds)`);
      }, lifetime);
    }
    if (this.options.oack !== null) {
      this.sendRaw(this.options.oack);
      this.arm();
    } else this.sendWindow(1);
  }

  /** Ends the transfer from outside (server closing); the client is told why. */
  abort(reason: string, tellClient = true): Promise<void> {
    if (!this.ended) {
      if (tellClient) this.sendRaw(encodeError(TftpErrorCode.NOT_DEFINED, reason));
      this.end(false, reason);
    }
    return this.finished;
  }

  /** The client repeated its RRQ: answer it now and give the transfer its full retries again. */
  repeatStart(): void {
    if (this.ended || this.reading || this.hasProgress || !this.spendResend()) return;
    this.attempt = 0;
    if (this.acked < 0) this.sendRaw(this.options.oack!);
    else this.resend();
    this.arm();
  }

  /** Whether the client has acknowledged anything yet; before that a repeated RRQ is a retransmission. */
  get hasProgress(): boolean {
    return this.acked > (this.options.oack === null ? 0 : -1);
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.ended) return;
    if (rinfo.port !== this.peerPort || rinfo.address !== this.peerAddress) {
      // RFC 1350 section 4: answer a stranger with error 5 and carry on with the transfer.
      this.socket.send(UNKNOWN_TID, rinfo.port, rinfo.address);
      return;
    }
    const op = readOpcode(msg);
    if (op === Opcode.ACK && msg.length >= 4) this.ack(readBlock(msg));
    // RFC 1350 section 7: an ERROR ends the transfer and is never answered.
    else if (op === Opcode.ERROR) this.end(false, `client sent error ${readBlock(msg)}`);
    else {
      this.sendRaw(ILLEGAL_OP);
      this.end(false, `client sent opcode ${op} instead of an ACK`);
    }
  }

  private ack(wireBlock: number): void {
    if (this.reading) return;
    // Block numbers wrap at 65536 (to 0, as tftp-hpa, curl, iPXE and EDK2 expect); map
    // the 16-bit number to the one count ahead of the last ACK it can refer to.
    const block = this.acked + ((wireBlock - (this.acked & 0xffff)) & 0xffff);
    // A repeated ACK is not answered: resending on duplicates doubles every packet from
    // then on (the sorcerer's apprentice, RFC 1123 section 4.2.3.1). Only the timer resends.
    // An ACK for a block not yet sent is ignored the same way.
    if (block === this.acked || block > this.sent) return;
    if (this.options.onProgress !== undefined && !this.hasProgress) this.options.onProgress();
    this.acked = block;
    this.attempt = 0;
    if (block === this.lastBlock) {
      this.end(true, 'complete');
      return;
    }
    // A full window acknowledged moves on; a partial one (RFC 7440 section 4) restarts
    // from the block after the last one the client got in order.
    this.sendWindow(block + 1);
  }

  private sendWindow(from: number): void {
    const count = Math.min(this.slots.length, this.lastBlock - from + 1);
    const start = (from - 1) * this.blksize;
    const end = Math.min(this.source.size, (from - 1 + count) * this.blksize);
    this.windowStart = from;
    this.windowCount = count;
    this.sent = this.acked;
    const pending = this.source.prepare(start, end);
    if (pending === null) {
      this.fillAndSend();
      return;
    }
    this.reading = true;
    pending.then(
      () => {
        this.reading = false;
        if (!this.ended) this.fillAndSend();
      },
      (err: Error) => {
        this.reading = false;
        if (this.ended) return;
        this.sendRaw(encodeError(TftpErrorCode.NOT_DEFINED, 'read error'));
        this.end(false, `read error: ${err.message}`);
      },
    );
  }

  private fillAndSend(): void {
    const { blksize, source } = this;
    for (let i = 0; i < this.windowCount; i++) {
      const block = this.windowStart + i;
      const slot = this.slots[i]!;
      const start = (block - 1) * blksize;
      const end = Math.min(source.size, start + blksize);
      writeDataHeader(slot, block & 0xffff);
      source.copy(slot, DATA_HEADER_BYTES, start, end);
      this.slotBytes[i] = DATA_HEADER_BYTES + end - start;
    }
    this.sent = this.windowStart + this.windowCount - 1;
    this.resend();
    this.arm();
  }

  private resend(): void {
    for (let i = 0; i < this.windowCount; i++) {
      const slot = this.slots[i]!;
      const bytes = this.slotBytes[i]!;
      // Passing offset and length makes dgram cut a new Buffer view per send; a full slot needs none.
      if (bytes === slot.length) this.socket.send(slot, this.peerPort, this.peerAddress);
      else this.socket.send(slot, 0, bytes, this.peerPort, this.peerAddress);
    }
  }

  private sendRaw(packet: Buffer): void {
    this.socket.send(packet, 0, packet.length, this.peerPort, this.peerAddress);
  }

  private arm(): void {
    const delay = retransmitDelay(this.options.retransmit, this.attempt, this.options.clientTimeoutMs);
    // refresh() reuses the timer: no new Timeout object for every window.
    if (this.timer !== null && delay === this.timerDelay) this.timer.refresh();
    else {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(this.onTimeout, delay);
      this.timerDelay = delay;
    }
  }

  private timeout(): void {
    if (this.ended || this.reading) return;
    if (++this.attempt > this.options.retransmit.retries) {
      this.end(false, `no ACK after ${this.options.retransmit.retries} retransmissions`);
      return;
    }
    if (!this.spendResend()) return;
    if (this.acked < 0) this.sendRaw(this.options.oack!);
    else this.resend();
    this.arm();
  }

  /** Takes one resend from the transfer's budget; false (and the transfer ended) when none is left. */
  private spendResend(): boolean {
    if (--this.resendsLeft >= 0) return true;
    this.sendRaw(TOO_MANY_RESENDS);
    this.end(false, `more than ${this.resendBudget} retransmissions in all`);
    return false;
  }

  private end(ok: boolean, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.lifetimeTimer !== null) clearTimeout(this.lifetimeTimer);
    this.timer = null;
    this.lifetimeTimer = null;
    const closed = new Promise<void>((resolve) => this.socket.close(resolve));
    const bytes = Math.min(this.source.size, Math.max(0, this.acked) * this.blksize);
    // onEnd runs once the socket and the file are really released, so close() and the
    // handle counts in tests see a settled state.
    this.finished = Promise.all([closed, this.source.close().catch(() => undefined)]).then(() =>
      this.options.onEnd({ ok, reason, bytes }),
    );
  }
}
