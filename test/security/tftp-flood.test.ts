// TFTP slot exhaustion and oversized names (docs/tftp.md, "Floods"), performed against the real server
// on loopback. Flooders are UDP sockets bound to other loopback addresses (127.0.0.N are
// all local on Linux), so the server sees them as distinct clients; the machine that then
// boots is the real tftp-hpa or atftp client from 127.0.0.1.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacket, encodeRequest, type Packet } from '../../src/tftp/packet.js';
import { clients, makeTempDir, run, startLoopbackServer, waitFor, writeRandomFile } from '../tftp/support/harness.js';

const FILE_BYTES = 1_000_003;
/** What an attacker asks for: the longest timeout RFC 2349 allows, so each unanswered slot lasts 7 x 255 s. */
const FLOOD_OPTIONS: Array<[string, string]> = [
  ['blksize', '1468'],
  ['tsize', '0'],
  ['timeout', '255'],
];

let dir: { path: string; remove: () => Promise<void> };
let root: string;
let out: string;

beforeAll(async () => {
  dir = await makeTempDir('kindling-tftp-flood-');
  root = join(dir.path, 'root');
  out = join(dir.path, 'out');
  await Promise.all([mkdir(root), mkdir(out)]);
  await writeRandomFile(join(root, 'ipxe.efi'), FILE_BYTES);
});

afterAll(async () => {
  await dir.remove();
});

/** A never-ACKing requester on its own loopback address; keeps the first reply it gets. */
class Flooder {
  first: Packet | null = null;
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg: Buffer, _rinfo: RemoteInfo) => {
      const decoded = decodePacket(msg);
      if (this.first === null && decoded.ok) this.first = decoded.packet;
    });
  }

  static async open(address: string): Promise<Flooder> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new Flooder(socket);
  }

  request(port: number): void {
    this.socket.send(encodeRequest('RRQ', 'ipxe.efi', 'octet', FLOOD_OPTIONS), port, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** `perAddress` flooders on each of 127.0.0.2 .. 127.0.0.(1 + addresses). */
async function flood(port: number, addresses: number, perAddress: number): Promise<Flooder[]> {
  const flooders: Flooder[] = [];
  for (let a = 0; a < addresses; a++)
    for (let i = 0; i < perAddress; i++) flooders.push(await Flooder.open(`127.0.0.${2 + a}`));
  for (const f of flooders) f.request(port);
  await waitFor(() => flooders.every((f) => f.first !== null), 5000, 'a reply to every flood RRQ');
  return flooders;
}

const oacks = (flooders: Flooder[]): Array<Extract<Packet, { op: 'OACK' }>> =>
  flooders.flatMap((f) => (f.first?.op === 'OACK' ? [f.first] : []));

async function fetchWithTftpHpa(port: number, local: string): Promise<Buffer> {
  const [cmd, args] = clients.tftpHpa(port, 'ipxe.efi', local);
  const result = await run(cmd, args, { timeoutMs: 20_000 });
  expect(result.stderr).toBe('');
  return readFile(local);
}

describe('TFTP slot exhaustion', () => {
  it('serves a new machine while a few addresses hold the pool, caps timeout=255 and frees the slots', async () => {
    // 16 slots, 2 of them reserved for addresses that hold none, 4 per address.
    const { server, port } = await startLoopbackServer([root], {
      config: { maxTransfers: 16, maxPerClient: 4, maxTransferSeconds: 3 },
    });
    let flooders: Flooder[] = [];
    try {
      flooders = await flood(port, 4, 4);
      const granted = oacks(flooders);
      // 14 slots to the four flooding addresses; their last two RRQs meet the reserve.
      expect(granted).toHaveLength(14);
      expect(flooders.filter((f) => f.first?.op === 'ERROR')).toHaveLength(2);
      for (const oack of granted)
        expect(oack.options).toEqual([
          ['blksize', '1468'],
          ['tsize', String(FILE_BYTES)],
        ]);
      expect(server.stats().active).toBe(14);

      // The flooders repeat their RRQs for a while (each repeat restarts the count of
      // retransmissions); their slots are still freed by tftp.maxTransferSeconds below.
      for (let i = 0; i < 4; i++) {
        for (const f of flooders) f.request(port);
        await new Promise((r) => setTimeout(r, 300));
      }

      const local = join(out, 'during-few.bin');
      const served = await fetchWithTftpHpa(port, local);
      expect(served.equals(await readFile(join(root, 'ipxe.efi')))).toBe(true);
      // Without a bound on a transfer's life this is ~40 s (default back-off) or ~30 min
      // (timeout=255 honoured): well past this wait.
      await waitFor(() => server.stats().active === 0, 15_000, 'the flood transfers to end');
      expect(server.stats().failed).toBe(14);
    } finally {
      await Promise.all(flooders.map((f) => f.close()));
      await server.close();
    }
  });

  it('serves a new machine when one address per slot fills the whole pool and never ACKs', async () => {
    const { server, port, logs } = await startLoopbackServer([root], {
      config: { maxTransfers: 16, maxPerClient: 4, maxTransferSeconds: 600 },
    });
    let flooders: Flooder[] = [];
    try {
      // 16 addresses, one RRQ each: the reserve goes too, since each holds nothing yet.
      flooders = await flood(port, 16, 1);
      expect(oacks(flooders)).toHaveLength(16);
      expect(server.stats().active).toBe(16);
      // Unanswered transfers may be displaced once they have waited long enough for an
      // ACK that real firmware sends within milliseconds.
      await new Promise((r) => setTimeout(r, 3500));

      // atftp asks for timeout 255 as well: it still gets the file, on the server's back-off.
      const local = join(out, 'during-full.bin');
      const [cmd, args] = clients.atftp(port, 'ipxe.efi', local, { blksize: '1468', timeout: '255' });
      const result = await run(cmd, args, { timeoutMs: 20_000 });
      expect(result.code).toBe(0);
      expect((await readFile(local)).equals(await readFile(join(root, 'ipxe.efi')))).toBe(true);
      expect(server.stats().evicted).toBe(1);
      expect(server.stats().active).toBe(15);
      expect(logs.some((line) => line.includes('tftp transfer without an ACK ended to make room'))).toBe(true);
    } finally {
      await Promise.all(flooders.map((f) => f.close()));
      await server.close();
    }
  });
});

describe('oversized names in logs', () => {
  it('keeps every log line and error short for a 60 KB filename, mode and option', async () => {
    const { server, port, logs } = await startLoopbackServer([root]);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const replies: Packet[] = [];
    socket.on('message', (msg: Buffer) => {
      const decoded = decodePacket(msg);
      if (decoded.ok) replies.push(decoded.packet);
    });
    try {
      const huge = 'a'.repeat(60_000);
      socket.send(encodeRequest('RRQ', huge, 'octet'), port, '127.0.0.1');
      socket.send(encodeRequest('RRQ', 'ipxe.efi', huge), port, '127.0.0.1');
      // A repeated option is refused after the file is found, and its name goes into the reason.
      socket.send(
        encodeRequest('RRQ', 'ipxe.efi', 'octet', [
          [huge.slice(0, 30_000), '1'],
          [huge.slice(0, 30_000), '1'],
        ]),
        port,
        '127.0.0.1',
      );
      await waitFor(() => replies.length === 3 && server.stats().active === 0, 5000, 'three refusals');
      expect(replies.map((p) => p.op)).toEqual(['ERROR', 'ERROR', 'ERROR']);
      for (const p of replies) if (p.op === 'ERROR') expect(p.message.length).toBeLessThan(512);

      const refused = logs.find((line) => line.includes('tftp path refused'));
      expect(refused).toContain('more characters]');
      expect(logs.some((line) => line.includes('appears more than once'))).toBe(true);
      expect(Math.max(...logs.map((line) => line.length))).toBeLessThan(2048);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await server.close();
    }
  });
});
