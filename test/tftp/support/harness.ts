// Shared pieces of the TFTP integration tests: an in-process server on loopback, fixture
// files made at run time, real clients run asynchronously (the server shares this event
// loop, so a synchronous child would freeze it), and a raw UDP client for bad input.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startTftpServer, type StartTftpServerOptions, type TftpServer } from '../../../src/tftp/index.js';
import { decodePacket } from '../../../src/tftp/packet.js';

export const LOOPBACK = '127.0.0.1';

export async function makeTempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes `size` random bytes in 1 MiB pieces, so a 33 MB fixture never sits in memory twice. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(1 << 20, size - done);
      await handle.write(randomBytes(n));
      done += n;
    }
  } finally {
    await handle.close();
  }
}

export { writeFile };

export interface ServerOptions extends Partial<Omit<StartTftpServerOptions, 'config' | 'logger'>> {
  config?: Partial<StartTftpServerOptions['config']>;
}

export async function startLoopbackServer(
  roots: string[],
  options: ServerOptions = {},
): Promise<{ server: TftpServer; port: number; logs: string[] }> {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const { config, ...rest } = options;
  const server = await startTftpServer({
    config: {
      enabled: true,
      listen: LOOPBACK,
      port: 0,
      roots,
      extraRoot: null,
      maxBlksize: 1468,
      maxTransfers: 256,
      maxPerClient: 64,
      maxTimeoutSeconds: 10,
      maxTransferSeconds: 600,
      ...config,
    },
    logger,
    ...rest,
  });
  return { server, port: server.address().port, logs };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 30_000, cwd: options.cwd, encoding: 'utf8', maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The three real clients, each as the argument list that fetches `remote` from HOST:PORT into `local`. */
export const clients = {
  tftpHpa: (port: number, remote: string, local: string, mode = 'binary', host = LOOPBACK): [string, string[]] => [
    'tftp',
    ['-m', mode, host, String(port), '-c', 'get', remote, local],
  ],
  atftp: (
    port: number,
    remote: string,
    local: string,
    options: Record<string, string> = {},
    host = LOOPBACK,
  ): [string, string[]] => [
    'atftp',
    [
      '-g',
      '-r',
      remote,
      '-l',
      local,
      ...Object.entries(options).flatMap(([k, v]) => ['--option', `${k} ${v}`]),
      host,
      String(port),
    ],
  ],
  curl: (port: number, remote: string, local: string, extra: string[] = [], host = LOOPBACK): [string, string[]] => [
    'curl',
    ['-sS', '--path-as-is', '-o', local, ...extra, `tftp://${host}:${port}/${remote}`],
  ],
};

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Counts of what keeps a process busy: open descriptors and libuv handles by kind. */
export function openHandles(): { fds: number; resources: Record<string, number> } {
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  return { fds: readdirSync('/proc/self/fd').length, resources };
}

/** A bare UDP peer for the packets no real client sends. */
export class RawClient {
  private readonly queue: Array<{ msg: Buffer; rinfo: RemoteInfo }> = [];
  private waiter: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.queue.push({ msg, rinfo });
      this.waiter?.();
    });
  }

  static async open(): Promise<RawClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    return new RawClient(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer, port: number): void {
    this.socket.send(bytes, port, LOOPBACK);
  }

  /** The next datagram, or null after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<{ msg: Buffer; rinfo: RemoteInfo } | null> {
    if (this.queue.length > 0) return this.queue.shift()!;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
    return this.queue.shift() ?? null;
  }

  /** The next datagram decoded, or null after `timeoutMs`. */
  async nextPacket(timeoutMs = 2000): Promise<ReturnType<typeof decodePacket> | null> {
    const reply = await this.next(timeoutMs);
    return reply && decodePacket(reply.msg);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
