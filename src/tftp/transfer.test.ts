// White-box tests of the transfer state machine with a fake socket: rollover, windows,
// duplicate ACKs and timeouts without the network.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { BufferSource } from './block-source.js';
import { decodePacket, encodeAck, encodeError, encodeOack } from './packet.js';
import { ReadTransfer, type TransferResult } from './transfer.js';

const PEER = { address: '10.0.0.2', port: 2000 };

class FakeSocket extends EventEmitter {
  sent: Array<{ bytes: Buffer; port: number; address: string }> = [];
  closed = false;
  send(buf: Buffer, offset: number | number, length?: number, port?: number, address?: string): void {
    // Both (buf, port, address) and (buf, offset, length, port, address) forms.
    if (address === undefined)
      this.sent.push({ bytes: Buffer.from(buf), port: offset, address: length as unknown as string });
    else this.sent.push({ bytes: Buffer.from(buf.subarray(offset, offset + length!)), port: port!, address });
  }
  close(callback?: () => void): void {
    this.closed = true;
    if (callback) setImmediate(callback);
  }
  fromPeer(bytes: Buffer, from = PEER): void {
    this.emit('message', bytes, { address: from.address, port: from.port, family: 'IPv4', size: bytes.length });
  }
  take(): Array<ReturnType<typeof decodePacket>> {
    const out = this.sent.map((s) => decodePacket(s.bytes));
    this.sent = [];
    return out;
  }
}

function setup(
  data: Buffer,
  opts: {
    blksize?: number;
    windowsize?: number;
    oack?: boolean;
    retries?: number;
    initialMs?: number;
    maxLifetimeMs?: number;
  } = {},
) {
  const socket = new FakeSocket();
  let result: TransferResult | null = null;
  const transfer = new ReadTransfer({
    socket: socket as unknown as Socket,
    peer: PEER,
    source: new BufferSource(data),
    blksize: opts.blksize ?? 512,
    windowsize: opts.windowsize ?? 1,
    oack: opts.oack ? encodeOack([['blksize', String(opts.blksize ?? 512)]]) : null,
    clientTimeoutMs: null,
    retransmit: { initialMs: opts.initialMs ?? 60_000, maxMs: 60_000, retries: opts.retries ?? 3 },
    ...(opts.maxLifetimeMs === undefined ? {} : { maxLifetimeMs: opts.maxLifetimeMs }),
    onEnd: (r) => {
      result = r;
    },
  });
  return { socket, transfer, result: () => result };
}

const blocksOf = (packets: Array<ReturnType<typeof decodePacket>>): number[] =>
  packets.map((p) => (p.ok && p.packet.op === 'DATA' ? p.packet.block : -1));

describe('ReadTransfer', () => {
  it('rolls block numbers over to 0 after 65535 and delivers every byte', async () => {
    // blksize 8 reaches block 65536 with half a megabyte instead of 32 MB.
    const data = randomBytes(8 * 65_540 + 3);
    const t = setup(data, { blksize: 8 });
    t.transfer.start();
    const received: Buffer[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 70_000 && t.result() === null; i++) {
      const [p] = t.socket.take();
      if (p === undefined) break;
      if (!p.ok || p.packet.op !== 'DATA') throw new Error('expected DATA');
      received.push(p.packet.data);
      if (i >= 65_533 && i <= 65_537) seen.push(p.packet.block);
      t.socket.fromPeer(encodeAck(p.packet.block));
    }
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([65_534, 65_535, 0, 1, 2]);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(t.result()).toMatchObject({ ok: true, bytes: data.length });
    expect(t.socket.closed).toBe(true);
  });

  it('ends a file that is a multiple of blksize with an empty block', async () => {
    const t = setup(Buffer.alloc(1024, 7));
    t.transfer.start();
    const sizes: number[] = [];
    for (let block = 1; block <= 3; block++) {
      const [p] = t.socket.take();
      if (p?.ok && p.packet.op === 'DATA') sizes.push(p.packet.data.length);
      t.socket.fromPeer(encodeAck(block));
    }
    await new Promise((r) => setImmediate(r));
    expect(sizes).toEqual([512, 512, 0]);
    expect(t.result()?.ok).toBe(true);
  });

  it("sends nothing for a duplicate ACK (no sorcerer's apprentice)", () => {
    const t = setup(Buffer.alloc(5000));
    t.transfer.start();
    expect(blocksOf(t.socket.take())).toEqual([1]);
    t.socket.fromPeer(encodeAck(1));
    expect(blocksOf(t.socket.take())).toEqual([2]);
    t.socket.fromPeer(encodeAck(1));
    t.socket.fromPeer(encodeAck(1));
    expect(t.socket.take()).toEqual([]);
    t.socket.fromPeer(encodeAck(2));
    expect(blocksOf(t.socket.take())).toEqual([3]);
    void t.transfer.abort('test over');
  });

  it('ignores an ACK for a block never sent', () => {
    const t = setup(Buffer.alloc(5000), { windowsize: 2 });
    t.transfer.start();
    expect(blocksOf(t.socket.take())).toEqual([1, 2]);
    t.socket.fromPeer(encodeAck(7));
    t.socket.fromPeer(encodeAck(60_000));
    expect(t.socket.take()).toEqual([]);
    t.socket.fromPeer(encodeAck(2));
    expect(blocksOf(t.socket.take())).toEqual([3, 4]);
    void t.transfer.abort('test over');
  });

  it('restarts a window after a partial ACK (RFC 7440 section 4)', () => {
    const t = setup(Buffer.alloc(512 * 10 + 1), { windowsize: 4 });
    t.transfer.start();
    expect(blocksOf(t.socket.take())).toEqual([1, 2, 3, 4]);
    t.socket.fromPeer(encodeAck(2));
    expect(blocksOf(t.socket.take())).toEqual([3, 4, 5, 6]);
    t.socket.fromPeer(encodeAck(6));
    expect(blocksOf(t.socket.take())).toEqual([7, 8, 9, 10]);
    t.socket.fromPeer(encodeAck(10));
    expect(blocksOf(t.socket.take())).toEqual([11]);
    void t.transfer.abort('test over');
  });

  it('waits for ACK 0 after an OACK and then sends DATA 1', () => {
    const t = setup(Buffer.alloc(100), { oack: true });
    t.transfer.start();
    const [first] = t.socket.take();
    expect(first?.ok && first.packet.op).toBe('OACK');
    t.socket.fromPeer(encodeAck(1));
    expect(t.socket.take()).toEqual([]);
    t.socket.fromPeer(encodeAck(0));
    expect(blocksOf(t.socket.take())).toEqual([1]);
    void t.transfer.abort('test over');
  });

  it('answers a stranger with error 5 and carries on', () => {
    const t = setup(Buffer.alloc(5000));
    t.transfer.start();
    t.socket.take();
    t.socket.fromPeer(encodeAck(1), { address: PEER.address, port: 2001 });
    const [reply] = t.socket.sent;
    expect(reply?.port).toBe(2001);
    expect(decodePacket(reply!.bytes)).toEqual({
      ok: true,
      packet: { op: 'ERROR', code: 5, message: 'unknown transfer ID' },
    });
    t.socket.take();
    t.socket.fromPeer(encodeAck(1));
    expect(blocksOf(t.socket.take())).toEqual([2]);
    void t.transfer.abort('test over');
  });

  it('ends on a client ERROR without answering it', async () => {
    const t = setup(Buffer.alloc(5000));
    t.transfer.start();
    t.socket.take();
    t.socket.fromPeer(encodeError(0, 'user cancelled'));
    await new Promise((r) => setImmediate(r));
    expect(t.socket.take()).toEqual([]);
    expect(t.result()).toMatchObject({ ok: false, reason: 'client sent error 0' });
    expect(t.socket.closed).toBe(true);
  });

  it('retransmits the window on timeout, backing off, then gives up', async () => {
    const t = setup(Buffer.alloc(2000), { windowsize: 2, initialMs: 10, retries: 2 });
    const started = Date.now();
    t.transfer.start();
    while (t.result() === null) await new Promise((r) => setTimeout(r, 5));
    // 10 + 20 + 40 ms of waiting: two retransmissions, then the end.
    expect(Date.now() - started).toBeGreaterThanOrEqual(65);
    expect(blocksOf(t.socket.take())).toEqual([1, 2, 1, 2, 1, 2]);
    expect(t.result()).toMatchObject({ ok: false, reason: 'no ACK after 2 retransmissions' });
  });

  it('stops answering a client that repeats its RRQ forever without ACKing', async () => {
    // 2000 bytes, lock-step: 4 blocks, a budget of 3 + 2 x 4 = 11 resends.
    const t = setup(Buffer.alloc(2000), { retries: 3 });
    t.transfer.start();
    for (let i = 0; i < 50 && t.result() === null; i++) t.transfer.repeatStart();
    await new Promise((r) => setImmediate(r));
    const sent = t.socket.take();
    expect(blocksOf(sent.slice(0, 12))).toEqual(new Array(12).fill(1));
    expect(sent[12]).toMatchObject({ ok: true, packet: { op: 'ERROR', message: 'too many retransmissions' } });
    expect(t.result()).toMatchObject({ ok: false, reason: 'more than 11 retransmissions in all' });
  });

  it('ends a transfer that outlives maxLifetimeMs, ACKs or not', async () => {
    const t = setup(Buffer.alloc(512 * 1000), { maxLifetimeMs: 50 });
    t.transfer.start();
    // A slow client: one ACK every 10 ms keeps the per-window timer from ever firing.
    const sent: Array<ReturnType<typeof decodePacket>> = [];
    for (let i = 0; i < 200 && t.result() === null; i++) {
      const fresh = t.socket.take();
      sent.push(...fresh);
      const data = fresh.filter((p) => p.ok && p.packet.op === 'DATA');
      const last = data.at(-1);
      if (last?.ok && last.packet.op === 'DATA') t.socket.fromPeer(encodeAck(last.packet.block));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(t.result()).toMatchObject({ ok: false, reason: 'still running after 0.05 s (tftp.maxTransferSeconds)' });
    sent.push(...t.socket.take());
    expect(sent.at(-1)).toMatchObject({ ok: true, packet: { op: 'ERROR', message: 'transfer took too long' } });
    expect(t.socket.closed).toBe(true);
  });
});
