// Transfers over a lossy link still complete byte-identical. The real thing is a veth
// between two namespaces the test makes, where the kernel loses 5% of the UDP each side
// receives (nftables, not netem: see below); the same loss is also emulated inside the
// server's sockets, which runs without root.
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { clients, makeTempDir, run, startLoopbackServer, writeRandomFile } from './support/harness.js';

const LOSS = 0.05;
const FILE_BYTES = 150_000;

let dir: { path: string; remove: () => Promise<void> };
let root: string;

beforeAll(async () => {
  dir = await makeTempDir('kindling-tftp-lossy-');
  root = join(dir.path, 'root');
  await mkdir(root);
  await writeRandomFile(join(root, 'payload.bin'), FILE_BYTES);
});

afterAll(async () => {
  await dir?.remove();
});

const isOack = (b: Buffer): boolean => b.length >= 2 && b[1] === 6;
const isAck0 = (b: Buffer): boolean => b.length >= 4 && b[1] === 4 && b[2] === 0 && b[3] === 0;

/** A UDP socket that silently drops what `dropSent` and `dropReceived` pick. */
function droppingSocketFactory(
  dropSent: (msg: Buffer) => boolean,
  dropReceived: (msg: Buffer) => boolean,
): () => Socket {
  return () => {
    const socket = createSocket('udp4');
    const send = socket.send.bind(socket) as (...args: unknown[]) => void;
    (socket as unknown as { send: (...args: unknown[]) => void }).send = (...args) => {
      if (!dropSent(args[0] as Buffer)) send(...args);
    };
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string, ...args: unknown[]) =>
      event === 'message' && dropReceived(args[0] as Buffer) ? false : emit(event, ...args)) as typeof socket.emit;
    return socket;
  };
}

/**
 * Sockets that lose LOSS of what they send and of what they receive, from a fixed seed.
 * The OACK and its ACK 0 are spared: atftp 0.8 aborts on a retransmitted OACK
 * ("unexpected OACK"), which would test atftp rather than the server; the unit tests
 * cover OACK retransmission.
 */
function lossySocketFactory(seed: number): () => Socket {
  let state = seed;
  const lose = (): boolean => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32 < LOSS;
  };
  return droppingSocketFactory(
    (msg) => !isOack(msg) && lose(),
    (msg) => !isAck0(msg) && lose(),
  );
}

describe('5% loss emulated in the server sockets', () => {
  const cases: Array<[string, (port: number, local: string) => [string, string[]]]> = [
    ['tftp-hpa, lock-step 512', (port, local) => clients.tftpHpa(port, 'payload.bin', local)],
    [
      'atftp blksize 1468 windowsize 8',
      (port, local) => clients.atftp(port, 'payload.bin', local, { blksize: '1468', windowsize: '8' }),
    ],
    // curl asks for the RFC 2349 timeout option (5 s here), and the server then waits
    // exactly that long before each retransmission, so every loss costs 5 s. Without
    // options the server's own back-off (100 ms here) applies. --max-time also shortens
    // curl's own retry spacing, which defaults to 72 s.
    [
      'curl without options',
      (port, local) => clients.curl(port, 'payload.bin', local, ['--tftp-no-options', '--max-time', '60']),
    ],
  ];
  it.each(cases)(
    '%s completes byte-identical',
    async (_name, client) => {
      const { server, port } = await startLoopbackServer([root], {
        socketFactory: lossySocketFactory(7),
        retransmit: { initialMs: 100, maxMs: 1000, retries: 10 },
      });
      try {
        const local = join(dir.path, `out-${Math.random().toString(36).slice(2)}`);
        const [cmd, args] = client(port, local);
        const result = await run(cmd, args, { timeoutMs: 100_000 });
        expect(result.code, result.stderr).toBe(0);
        expect((await readFile(local)).equals(await readFile(join(root, 'payload.bin')))).toBe(true);
      } finally {
        await server.close();
      }
    },
    110_000,
  );
});

/** Sockets that never hear the first `times` ACKs for `block`. */
function deafToAck(block: number, times: number): () => Socket {
  let dropped = 0;
  const isThatAck = (msg: Buffer): boolean => msg.length === 4 && msg[1] === 4 && msg.readUInt16BE(2) === block;
  return droppingSocketFactory(
    () => false,
    (msg) => isThatAck(msg) && dropped < times && ++dropped > 0,
  );
}

describe('a lost ACK with the default back-off', () => {
  // atftp 0.8 answers a repeated window once and then waits out its own 5 s timeout;
  // losing that one answer too leaves the server to fall silent long enough (the 1, 2,
  // 4 s retransmissions, then an 8 s wait) for atftp to ACK again.
  it('atftp windowsize 8 completes after its ACK 8 and the repeat of it are both lost', async () => {
    const { server, port } = await startLoopbackServer([root], { socketFactory: deafToAck(8, 2) });
    try {
      const local = join(dir.path, 'lost-ack');
      const [cmd, args] = clients.atftp(port, 'payload.bin', local, { blksize: '1468', windowsize: '8' });
      const result = await run(cmd, args, { timeoutMs: 40_000 });
      expect(result.code, result.stderr).toBe(0);
      expect((await readFile(local)).equals(await readFile(join(root, 'payload.bin')))).toBe(true);
      expect(server.stats()).toMatchObject({ completed: 1, failed: 0 });
    } finally {
      await server.close();
    }
  }, 60_000);
});

/**
 * 5% of the UDP a namespace receives is dropped at its input hook. The issue asked for
 * `tc qdisc ... netem loss 5%`, but sch_netem is a module many kernels (this CI's among
 * them) do not have, while nftables' `numgen random` drop is built into any kernel with
 * nf_tables; for TFTP the effect is the same (loss, no delay). The drop is on input, not
 * output: a packet dropped at the sender's output hook fails its sendto() with EPERM,
 * which a real lossy wire never does (tftp-hpa's client gives up on it). The OACK and
 * ACK 0 are spared, as in the emulation above: atftp aborts on a retransmitted OACK. The
 * drop rule counts, so the test can show that packets really were lost.
 */
const LOSS_RULESET = `table inet kindling_loss {
  chain input {
    type filter hook input priority 0; policy accept;
    udp length > 11 @th,64,16 6 accept
    udp length > 11 @th,64,32 0x00040000 accept
    meta l4proto udp numgen random mod 100 < ${LOSS * 100} counter drop
  }
}
`;

function droppedIn(pair: NetnsPair, ns: string): number {
  const chain = pair.exec(ns, 'nft', ['list', 'chain', 'inet', 'kindling_loss', 'input']);
  return Number(/counter packets (\d+)/.exec(chain)?.[1] ?? Number.NaN);
}

describe('across namespaces joined by a veth', () => {
  const netnsOk = canUseNetns();
  let pair: NetnsPair | null = null;
  let child: ReturnType<NetnsPair['spawn']> | null = null;
  let port = 0;

  beforeAll(async () => {
    if (!netnsOk) return;
    pair = createNetnsPair();
    // The back-off reaches 2 s, past atftp's 1 s timeout below (see the lossy case).
    const settings = {
      config: { listen: pair.server.ip, roots: [root] },
      retransmit: { initialMs: 200, maxMs: 2000, retries: 10 },
    };
    child = pair.spawn(pair.server.ns, process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, 'support', 'serve.ts'),
      JSON.stringify(settings),
    ]);
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server child did not start')), 20_000);
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        const m = /^PORT (\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child!.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    });
  }, 30_000);

  afterAll(() => {
    child?.kill('SIGTERM');
    // destroy() kills whatever is left in the namespaces and removes them, even after a failure.
    pair?.destroy();
  });

  /** Runs a client from the client namespace against the server namespace's address. */
  const fetchAcross = async (
    client: (port: number, local: string, host: string) => [string, string[]],
    local: string,
  ): Promise<void> => {
    const [cmd, args] = client(port, local, pair!.server.ip);
    const result = await run('ip', ['netns', 'exec', pair!.client.ns, cmd, ...args], { timeoutMs: 100_000 });
    expect(result.code, `${cmd}: ${result.stderr}`).toBe(0);
    expect((await readFile(local)).equals(await readFile(join(root, 'payload.bin'))), cmd).toBe(true);
  };

  it.skipIf(!netnsOk)(
    'fetches byte-identical from a server in another namespace',
    async () => {
      await fetchAcross(
        (p, local, host) => clients.atftp(p, 'payload.bin', local, { blksize: '1468', windowsize: '4' }, host),
        join(dir.path, 'veth-clean'),
      );
    },
    110_000,
  );

  it.skipIf(!netnsOk)(
    'completes byte-identical with 5% of the packets lost each way on the veth',
    async () => {
      for (const ns of [pair!.server.ns, pair!.client.ns]) pair!.exec(ns, 'nft', ['-f', '-'], { input: LOSS_RULESET });
      const cases: Array<[string, (p: number, local: string, host: string) => [string, string[]]]> = [
        ['tftp-hpa lock-step 512', (p, local, host) => clients.tftpHpa(p, 'payload.bin', local, 'binary', host)],
        // atftp 0.8 answers a repeated window with one ACK and then ignores repeats until
        // its own timeout; when that one ACK is lost, only the client's timeout (5 s by
        // default) resends it, and only if the server falls silent that long. The
        // server's default back-off (1 s doubling to 8 s) does; this test's is shorter,
        // so the client's timeout is too.
        [
          'atftp blksize 1468 windowsize 8',
          (p, local, host) => {
            const [cmd, args] = clients.atftp(p, 'payload.bin', local, { blksize: '1468', windowsize: '8' }, host);
            return [cmd, ['--tftp-timeout', '1', ...args]];
          },
        ],
        [
          'curl without options',
          (p, local, host) => clients.curl(p, 'payload.bin', local, ['--tftp-no-options', '--max-time', '60'], host),
        ],
      ];
      for (const [label, client] of cases)
        await fetchAcross(client, join(dir.path, `lossy-${label.replace(/\W+/g, '-')}`));
      // The clients lost DATA and the server lost ACKs: the link really was lossy.
      expect(droppedIn(pair!, pair!.server.ns)).toBeGreaterThan(0);
      expect(droppedIn(pair!, pair!.client.ns)).toBeGreaterThan(0);
    },
    300_000,
  );
});
