// Transfers on threads (src/tftp/transfer-pool.ts): the same bytes and the same protocol
// behaviour as on the main thread, cached files served from one shared copy, and nothing
// left behind after close().
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacket, encodeAck, encodeError, encodeRequest } from '../../src/tftp/packet.js';
import type { TftpServer } from '../../src/tftp/index.js';
import {
  RawClient,
  makeTempDir,
  openHandles,
  startLoopbackServer,
  waitFor,
  writeRandomFile,
} from './support/harness.js';

let dir: { path: string; remove: () => Promise<void> };
let root: string;
let server: TftpServer;
let port: number;
let logs: string[];
// Over the 64 KiB cache limit set below, so it is read by positional reads on a thread,
// and over two 256 KiB read chunks plus a partial last block.
const SIZE = 2 * 256 * 1024 + 70_001;

beforeAll(async () => {
  dir = await makeTempDir('kindling-tftp-threads-');
  root = join(dir.path, 'root');
  await mkdir(root);
  await writeRandomFile(join(root, 'large.bin'), SIZE);
  await writeRandomFile(join(root, 'small.bin'), 50_001);
  ({ server, port, logs } = await startLoopbackServer([root], {
    transferThreads: 2,
    cacheFileBytes: 64 * 1024,
    retransmit: { initialMs: 200, maxMs: 400, retries: 2 },
  }));
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

/** Fetches a file (large.bin by default) lock-step from a raw client, ACKing every block; returns the bytes. */
async function fetchRaw(options: Array<[string, string]> = [], file = 'large.bin'): Promise<Buffer> {
  const client = await RawClient.open();
  try {
    client.send(encodeRequest('RRQ', file, 'octet', options), port);
    const parts: Buffer[] = [];
    for (;;) {
      const reply = await client.next(2000);
      if (reply === null) throw new Error('no reply');
      const decoded = decodePacket(reply.msg);
      if (!decoded.ok) throw new Error(decoded.reason);
      const p = decoded.packet;
      if (p.op === 'OACK') {
        client.send(encodeAck(0), reply.rinfo.port);
        continue;
      }
      if (p.op !== 'DATA') throw new Error(`unexpected ${p.op}`);
      parts.push(Buffer.from(p.data));
      const blksize = Number(options.find(([k]) => k === 'blksize')?.[1] ?? 512);
      if (p.data.length < blksize) {
        // The last ACK must leave before the socket closes.
        await new Promise((resolve) => client.socket.send(encodeAck(p.block), reply.rinfo.port, '127.0.0.1', resolve));
        return Buffer.concat(parts);
      }
      client.send(encodeAck(p.block), reply.rinfo.port);
    }
  } finally {
    await client.close();
  }
}

describe('transfer threads', () => {
  it('start with the server', () => {
    expect(logs.some((l) => l.includes('"transferThreads":2'))).toBe(true);
  });

  it('serve a large file byte-identical across read chunks, lock-step', async () => {
    const expected = await readFile(join(root, 'large.bin'));
    expect((await fetchRaw([['blksize', '1468']])).equals(expected)).toBe(true);
    expect((await fetchRaw()).equals(expected)).toBe(true);
  });

  it('serve several at once, each byte-identical, and count them on the main thread', async () => {
    const expected = await readFile(join(root, 'large.bin'));
    await waitFor(() => server.stats().active === 0, 2000, 'earlier transfers to end');
    const before = server.stats();
    const got = await Promise.all(Array.from({ length: 5 }, () => fetchRaw([['blksize', '1024']])));
    expect(got.every((b) => b.equals(expected))).toBe(true);
    await waitFor(() => server.stats().completed === before.completed + 5, 2000, 'five completions');
    expect(server.stats().bytesSent - before.bytesSent).toBe(5 * SIZE);
  });

  it('serve a cached small file from one shared copy: byte-identical, one disk read', async () => {
    const expected = await readFile(join(root, 'small.bin'));
    const before = server.stats().cache;
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetchRaw(i % 2 === 0 ? [['blksize', '1468']] : [], 'small.bin')),
    );
    expect(got.every((b) => b.equals(expected))).toBe(true);
    expect(server.stats().cache.diskReads - before.diskReads).toBe(1);
    expect(server.stats().cache.hits - before.hits).toBe(7);
  });

  it('treat a repeated RRQ before any ACK as a retransmission, and a later one as a restart', async () => {
    const started = server.stats().started;
    const client = await RawClient.open();
    client.send(encodeRequest('RRQ', 'large.bin', 'octet'), port);
    const first = await client.next(2000);
    expect(first && decodePacket(first.msg)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 1 } });
    client.send(encodeRequest('RRQ', 'large.bin', 'octet'), port);
    // The thread answers the repeat by sending DATA 1 again, from the same transfer.
    const again = await client.next(2000);
    expect(again && decodePacket(again.msg)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 1 } });
    expect(again!.rinfo.port).toBe(first!.rinfo.port);
    expect(server.stats().started).toBe(started + 1);
    client.send(encodeAck(1), first!.rinfo.port);
    await client.next(2000);
    // The ACK's progress reaches the main thread, so the next RRQ replaces the transfer.
    await new Promise((r) => setTimeout(r, 50));
    client.send(encodeRequest('RRQ', 'large.bin', 'octet'), port);
    const fresh = await client.next(2000);
    expect(fresh && decodePacket(fresh.msg)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 1 } });
    expect(fresh!.rinfo.port).not.toBe(first!.rinfo.port);
    expect(server.stats().started).toBe(started + 2);
    client.send(encodeError(0, 'done'), fresh!.rinfo.port);
    await client.close();
  });

  it('answer a stranger with error 5 and keep going', async () => {
    const client = await RawClient.open();
    client.send(encodeRequest('RRQ', 'large.bin', 'octet'), port);
    const first = await client.next(2000);
    const tid = first!.rinfo.port;
    const stranger = await RawClient.open();
    stranger.send(encodeAck(1), tid);
    expect(await stranger.nextPacket(2000)).toMatchObject({ ok: true, packet: { op: 'ERROR', code: 5 } });
    await stranger.close();
    client.send(encodeAck(1), tid);
    expect(await client.nextPacket(2000)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 2 } });
    client.send(encodeError(0, 'done'), tid);
    await client.close();
  });

  it('end a silent client after its retries, reported on the main thread', async () => {
    // The previous test's transfer ends (its client's ERROR) on the thread, asynchronously.
    await waitFor(() => server.stats().active === 0, 2000, 'earlier transfers to end');
    const failed = server.stats().failed;
    const client = await RawClient.open();
    client.send(encodeRequest('RRQ', 'large.bin', 'octet'), port);
    await client.next(2000);
    await waitFor(() => server.stats().failed >= failed + 1, 5000, 'the transfer to give up');
    expect(logs.some((l) => l.includes('no ACK after 2 retransmissions'))).toBe(true);
    await client.close();
  });

  it('leave a missing file to the main thread: error 1', async () => {
    const client = await RawClient.open();
    client.send(encodeRequest('RRQ', 'missing.bin', 'octet'), port);
    expect(await client.nextPacket(2000)).toMatchObject({ ok: true, packet: { op: 'ERROR', code: 1 } });
    await client.close();
  });

  it('close() tells running clients, ends the threads and releases everything', async () => {
    const { server: s, port: p } = await startLoopbackServer([root], { transferThreads: 2, cacheFileBytes: 64 * 1024 });
    const baseline = openHandles();
    const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open()));
    for (const c of clients) c.send(encodeRequest('RRQ', 'large.bin', 'octet'), p);
    await Promise.all(clients.map((c) => c.next(2000)));
    expect(s.stats().active).toBe(4);
    await s.close();
    const told = await Promise.all(clients.map((c) => c.next(2000)));
    expect(told.every((r) => r !== null && r.msg.readUInt16BE(0) === 5)).toBe(true);
    expect(s.stats()).toMatchObject({ active: 0, failed: 4 });
    await Promise.all(clients.map((c) => c.close()));
    await new Promise((r) => setTimeout(r, 50));
    const after = openHandles();
    // The listening socket, the threads' event loops and the transfers' sockets and files are gone.
    expect(after.fds).toBeLessThan(baseline.fds);
    expect(after.resources.UDPWrap ?? 0).toBeLessThanOrEqual((baseline.resources.UDPWrap ?? 0) - 1);
  });
});
