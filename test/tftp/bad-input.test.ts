// Bad input from a raw UDP peer: nothing a client sends may crash the server or leak a
// socket, a file handle or a timer.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacket, encodeAck, encodeError, encodeRequest, type Packet } from '../../src/tftp/packet.js';
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

beforeAll(async () => {
  dir = await makeTempDir('kindling-tftp-bad-');
  root = join(dir.path, 'root');
  await mkdir(root);
  await writeRandomFile(join(root, 'small.bin'), 100_000);
  // Larger than the cache limit, so it takes the positional-read path with a file handle.
  await writeRandomFile(join(root, 'large.bin'), 9 * 1024 * 1024);
  ({ server, port } = await startLoopbackServer([root], { retransmit: { initialMs: 50, maxMs: 100, retries: 2 } }));
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

async function exchange(bytes: Buffer, to = port): Promise<{ packet: Packet | null; from: number } | null> {
  const client = await RawClient.open();
  try {
    client.send(bytes, to);
    const reply = await client.next(500);
    if (reply === null) return null;
    const decoded = decodePacket(reply.msg);
    return { packet: decoded.ok ? decoded.packet : null, from: reply.rinfo.port };
  } finally {
    await client.close();
  }
}

const errorOf = (r: Awaited<ReturnType<typeof exchange>>): { code: number; message: string } | null =>
  r?.packet?.op === 'ERROR' ? { code: r.packet.code, message: r.packet.message } : null;

describe('malformed requests', () => {
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['missing NUL after the filename', Buffer.from('\x00\x01small.bin', 'latin1'), 4, /no NUL terminator/],
    ['missing NUL after the mode', Buffer.from('\x00\x01small.bin\x00octet', 'latin1'), 4, /no NUL terminator/],
    ['no mode', Buffer.from('\x00\x01small.bin\x00', 'latin1'), 4, /filename and a mode/],
    ['unknown mode', encodeRequest('RRQ', 'small.bin', 'mail'), 4, /unknown mode "mail"/],
    ['option without value', Buffer.from('\x00\x01small.bin\x00octet\x00blksize\x00', 'latin1'), 4, /no value/],
    [
      'repeated option',
      encodeRequest('RRQ', 'small.bin', 'octet', [
        ['blksize', '1024'],
        ['blksize', '512'],
      ]),
      8,
      /more than once/,
    ],
    ['write request', encodeRequest('WRQ', 'small.bin', 'octet'), 2, /read-only/],
    ['DATA to the server port', Buffer.from([0, 3, 0, 1, 9, 9]), 4, /expected a read request/],
    ['unknown opcode', Buffer.from([0, 9, 0, 0]), 4, /expected a read request/],
    ['one byte', Buffer.from([1]), 4, /expected a read request/],
    [
      'NUL byte smuggled in by an option-less path',
      Buffer.from('\x00\x01../x\x00octet\x00', 'latin1'),
      2,
      /parent directory/,
    ],
  ];
  it.each(cases)('%s: error %i', async (_name, bytes, code, message) => {
    const error = errorOf(await exchange(bytes));
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(message);
  });

  it('never answers an ERROR sent to the server port', async () => {
    expect(await exchange(encodeError(0, 'hello'))).toBeNull();
  });

  it('ignores absurd option values and serves the file with defaults', async () => {
    const reply = await exchange(
      encodeRequest('RRQ', 'small.bin', 'octet', [
        ['blksize', '99999999999'],
        ['windowsize', '-1'],
        ['timeout', 'x'],
        ['tsize', 'lots'],
      ]),
    );
    expect(reply?.packet).toMatchObject({ op: 'DATA', block: 1 });
    expect(reply?.packet?.op === 'DATA' && reply.packet.data.length).toBe(512);
  });
});

/** Starts a transfer and returns the client, the transfer's port and its first packet. */
async function begin(
  file: string,
  options: Array<[string, string]> = [],
): Promise<{ client: RawClient; tid: number; first: Packet }> {
  const client = await RawClient.open();
  client.send(encodeRequest('RRQ', file, 'octet', options), port);
  const reply = await client.next(2000);
  if (reply === null) throw new Error('no reply to RRQ');
  const decoded = decodePacket(reply.msg);
  if (!decoded.ok)
    throw new Error(`${decoded.reason}: ${reply.msg.toString('hex').slice(0, 80)} from ${reply.rinfo.port}`);
  return { client, tid: reply.rinfo.port, first: decoded.packet };
}

describe('misbehaving peers mid-transfer', () => {
  it('answers a packet from another port with error 5 and the transfer still completes', async () => {
    const { client, tid, first } = await begin('small.bin', [['blksize', '1468']]);
    expect(first.op).toBe('OACK');
    const stranger = await RawClient.open();
    stranger.send(encodeAck(0), tid);
    expect(await stranger.nextPacket(1000)).toEqual({
      ok: true,
      packet: { op: 'ERROR', code: 5, message: 'unknown transfer ID' },
    });
    await stranger.close();
    // The real client carries on to the end.
    let received = 0;
    for (let block = 0; ; block++) {
      client.send(encodeAck(block), tid);
      const next = await client.next(1000);
      const p = next && decodePacket(next.msg);
      if (!p?.ok || p.packet.op !== 'DATA') throw new Error('expected DATA');
      received += p.packet.data.length;
      if (p.packet.data.length < 1468) {
        client.send(encodeAck(p.packet.block), tid);
        break;
      }
    }
    expect(received).toBe(100_000);
    await client.close();
  });

  it('ignores ACKs for blocks never sent', async () => {
    const { client, tid, first } = await begin('small.bin');
    expect(first).toMatchObject({ op: 'DATA', block: 1 });
    client.send(encodeAck(500), tid);
    client.send(encodeAck(65535), tid);
    // Only the retransmission of block 1 comes, after the timer.
    expect(await client.nextPacket(1000)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 1 } });
    client.send(encodeAck(1), tid);
    expect(await client.nextPacket(1000)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 2 } });
    client.send(encodeError(0, 'done'), tid);
    await client.close();
  });

  it('ends the transfer on an ERROR from the client', async () => {
    const before = server.stats().failed;
    const { client, tid } = await begin('large.bin');
    client.send(encodeError(3, 'disk full'), tid);
    await waitFor(() => server.stats().failed > before, 2000, 'the transfer to end');
    await client.close();
  });

  it('answers a DATA packet from the client with error 4 and ends the transfer', async () => {
    const { client, tid } = await begin('small.bin');
    client.send(Buffer.from([0, 3, 0, 1]), tid);
    expect(await client.nextPacket(1000)).toMatchObject({ ok: true, packet: { op: 'ERROR', code: 4 } });
    await client.close();
  });

  it('treats a repeated RRQ from the same port as a retransmission, not a second transfer', async () => {
    const started = server.stats().started;
    const { client, tid } = await begin('small.bin');
    client.send(encodeRequest('RRQ', 'small.bin', 'octet'), port);
    await new Promise((r) => setTimeout(r, 30));
    expect(server.stats().started).toBe(started + 1);
    client.send(encodeError(0, 'done'), tid);
    await client.close();
  });
});

describe('a client that restarts from the same port', () => {
  it('gets a fresh transfer once the old one has progressed', async () => {
    const started = server.stats().started;
    const { client, tid } = await begin('small.bin');
    client.send(encodeAck(1), tid);
    await client.next(1000);
    client.send(encodeRequest('RRQ', 'small.bin', 'octet'), port);
    const fresh = await client.next(1000);
    expect(fresh && decodePacket(fresh.msg)).toMatchObject({ ok: true, packet: { op: 'DATA', block: 1 } });
    expect(fresh?.rinfo.port).not.toBe(tid);
    expect(server.stats().started).toBe(started + 2);
    client.send(encodeError(0, 'done'), fresh!.rinfo.port);
    await client.close();
  });
});

describe('limits', () => {
  it('refuses transfers over the per-client cap with a busy error', async () => {
    const { server: capped, port: cappedPort } = await startLoopbackServer([root], {
      config: { maxPerClient: 2, maxTransfers: 3 },
    });
    try {
      const clients = await Promise.all([0, 1, 2].map(() => RawClient.open()));
      for (const c of clients) c.send(encodeRequest('RRQ', 'large.bin', 'octet'), cappedPort);
      const replies = await Promise.all(clients.map((c) => c.next(1000)));
      const kinds = replies.map((r) => (r ? decodePacket(r.msg) : null)).map((p) => (p?.ok ? p.packet.op : null));
      expect(kinds.filter((k) => k === 'DATA')).toHaveLength(2);
      expect(kinds.filter((k) => k === 'ERROR')).toHaveLength(1);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await capped.close();
    }
  });
});

describe('shared cache', () => {
  it('serves one small file to 200 clients at once with one disk read', async () => {
    const { server: fresh, port: freshPort } = await startLoopbackServer([root], {
      config: { maxTransfers: 256, maxPerClient: 256 },
    });
    try {
      const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.open()));
      for (const c of clients) c.send(encodeRequest('RRQ', 'small.bin', 'octet', [['blksize', '1468']]), freshPort);
      const first = await Promise.all(clients.map((c) => c.next(3000)));
      expect(first.every((r) => r !== null && readOp(r.msg) === 6)).toBe(true);
      expect(fresh.stats().cache.diskReads).toBe(1);
      expect(fresh.stats().cache.hits).toBe(199);
      await Promise.all(clients.map((c, i) => (c.send(encodeError(0, 'bye'), first[i]!.rinfo.port), c.close())));
    } finally {
      await fresh.close();
    }
  });
});

describe('no leaks', () => {
  it('returns open handles to baseline after 1,000 aborted transfers', async () => {
    const baseline = openHandles();
    const ways = [
      'error-after-data',
      'error-after-oack',
      'bogus-ack-then-error',
      'stranger-then-error',
      'abandon',
    ] as const;
    const BATCH = 50;
    for (let done = 0; done < 1000; done += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const way = ways[(done + i) % ways.length]!;
          const file = i % 2 === 0 ? 'small.bin' : 'large.bin';
          const { client, tid } = await begin(
            file,
            way === 'error-after-oack'
              ? [
                  ['blksize', '1024'],
                  ['windowsize', '8'],
                ]
              : [],
          );
          if (way === 'bogus-ack-then-error') client.send(encodeAck(4242), tid);
          if (way === 'stranger-then-error') {
            const stranger = await RawClient.open();
            stranger.send(encodeAck(1), tid);
            await stranger.next(500);
            await stranger.close();
          }
          if (way !== 'abandon') client.send(encodeError(0, 'aborted by test'), tid);
          await client.close();
        }),
      );
    }
    // Abandoned transfers end after 2 retransmissions at 50 + 100 + 100 ms.
    await waitFor(() => server.stats().active === 0, 5000, 'every transfer to end');
    await new Promise((r) => setTimeout(r, 50));
    const after = openHandles();
    expect(after.fds).toBeLessThanOrEqual(baseline.fds);
    for (const kind of ['UDPWrap', 'Timeout', 'FileHandle'])
      expect(after.resources[kind] ?? 0, kind).toBeLessThanOrEqual(baseline.resources[kind] ?? 0);
  }, 60_000);

  it('close() ends running transfers and releases their sockets', async () => {
    const { server: s, port: p } = await startLoopbackServer([root]);
    const baseline = openHandles();
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.open()));
    for (const c of clients) c.send(encodeRequest('RRQ', 'large.bin', 'octet'), p);
    await Promise.all(clients.map((c) => c.next(1000)));
    expect(s.stats().active).toBe(5);
    await s.close();
    // Each client is told the server is going away.
    const told = await Promise.all(clients.map((c) => c.next(1000)));
    expect(told.every((r) => r !== null && decodePacket(r.msg).ok && readOp(r.msg) === 5)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    // libuv frees a closed handle on the next loop turn after its close callback.
    await new Promise((r) => setTimeout(r, 50));
    const after = openHandles();
    // The server's own listening socket is gone too, so we end below the baseline.
    expect(after.resources.UDPWrap ?? 0).toBeLessThanOrEqual((baseline.resources.UDPWrap ?? 0) - 1);
    expect(after.resources.FileHandle ?? 0).toBe(0);
    expect(after.fds).toBeLessThan(baseline.fds);
  });
});

const readOp = (b: Buffer): number => b.readUInt16BE(0);
