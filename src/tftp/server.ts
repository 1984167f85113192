// The listening socket: decodes requests, applies the limits, resolves files and hands
// each accepted read to a ReadTransfer on a fresh socket. Read-only by design.
import type { RemoteInfo, Socket } from 'node:dgram';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { KindlingError } from '../errors.js';
import { FileCache, type FileCacheStats } from './file-cache.js';
import { toNetascii } from './netascii.js';
import { negotiate, parseMode, type NegotiationLimits } from './options.js';
import { Opcode, TftpErrorCode, decodePacket, encodeError, encodeOack } from './packet.js';
import { clip } from './clip.js';
import { checkRequestPath } from './request-path.js';
import { DEFAULT_RETRANSMIT, type RetransmitPolicy } from './retransmit.js';
import { FileRoots } from './roots.js';
import type { ReadTransfer, TransferHandle, TransferResult } from './transfer.js';
import { openReadTransfer, type TransferPlan } from './transfer-plan.js';
import { TransferPool } from './transfer-pool.js';
import { udp4 } from './udp.js';

export interface TftpSettings {
  listen: string;
  port: number;
  roots: string[];
  extraRoot: string | null;
  maxBlksize: number;
  maxTransfers: number;
  maxPerClient: number;
  maxTimeoutSeconds: number;
  maxTransferSeconds: number;
}

export interface TftpServerDeps {
  settings: TftpSettings;
  logger: Logger;
  /** Makes every UDP socket; tests pass one that drops packets to emulate a lossy link. */
  socketFactory?: () => Socket;
  retransmit?: RetransmitPolicy;
  /** Largest windowsize granted (RFC 7440); 64 keeps one window under 100 KB at 1468. */
  maxWindowsize?: number;
  /** Files up to this size are cached and shared; larger ones are read per transfer. */
  cacheFileBytes?: number;
  cacheTotalBytes?: number;
  /**
   * Worker threads that run the transfers (cached files are shared with them, not
   * copied); 0 runs every transfer on the main thread. Default: the cores available, 2
   * to 4, or 0 on one core or with a socketFactory (a factory cannot cross into a thread).
   */
  transferThreads?: number;
}

export interface TftpStats {
  active: number;
  started: number;
  completed: number;
  failed: number;
  refused: number;
  /** Transfers that never got an ACK, ended to make room for a new client (see evictStalled). */
  evicted: number;
  bytesSent: number;
  cache: FileCacheStats;
}

export const DEFAULT_MAX_WINDOWSIZE = 64;
/** One window is buffered per transfer; 1 MiB x 256 transfers bounds the worst case. */
const MAX_WINDOW_BYTES = 1024 * 1024;
/** ipxe.efi is ~1 MB and snponly.efi smaller; 8 MiB covers pxelinux kernels' small cousins too. */
const DEFAULT_CACHE_FILE_BYTES = 8 * 1024 * 1024;
const DEFAULT_CACHE_TOTAL_BYTES = 64 * 1024 * 1024;

const READ_ONLY = encodeError(TftpErrorCode.ACCESS_VIOLATION, 'this server is read-only');
const BUSY = encodeError(TftpErrorCode.NOT_DEFINED, 'server busy, try again');
const CLIENT_BUSY = encodeError(TftpErrorCode.NOT_DEFINED, 'too many transfers from this address');
const NOT_A_REQUEST = encodeError(TftpErrorCode.ILLEGAL_OPERATION, 'expected a read request');

interface PeerEntry {
  filename: string;
  /** Null while the file is being resolved. */
  transfer: TransferHandle | null;
  startedAt: number;
  /** Ended to make room; its slot is already counted as free. */
  evicted: boolean;
}

/**
 * A transfer with no ACK this long after it started may be ended when the pool is full.
 * Firmware ACKs within milliseconds, and by then the server has sent twice (1 s back-off);
 * an RRQ that is never followed up (a flood, possibly from forged addresses) is not a client.
 */
const STALLED_MS = 3000;

/**
 * Slots kept for addresses that hold none: a flood from a few addresses (each under
 * `maxPerClient`) fills the rest, and a machine that starts to boot still gets one.
 */
export function reservedSlots(maxTransfers: number): number {
  return Math.floor(maxTransfers / 8);
}

export function defaultTransferThreads(deps: Pick<TftpServerDeps, 'socketFactory' | 'transferThreads'>): number {
  if (deps.transferThreads !== undefined) return deps.transferThreads;
  if (deps.socketFactory !== undefined) return 0;
  const cores = availableParallelism();
  return cores < 2 ? 0 : Math.min(cores, 4);
}

export class TftpServerCore {
  private readonly socket: Socket;
  private readonly logger: Logger;
  private readonly settings: TftpSettings;
  private readonly makeSocket: () => Socket;
  private readonly retransmit: RetransmitPolicy;
  private readonly limits: NegotiationLimits;
  private readonly cache: FileCache;
  private readonly roots: FileRoots;
  /** Transfers an address that already holds one may take; the rest are the reserve. */
  private readonly sharedSlots: number;
  /** Peers ("address:port") with a transfer under way, to tell a retransmitted RRQ from a restart. */
  private readonly peers = new Map<string, PeerEntry>();
  private readonly perClient = new Map<string, number>();
  private readonly transfers = new Set<TransferHandle>();
  /** Threads for large-file transfers; null runs every transfer on this thread. */
  private readonly pool: TransferPool | null;
  private readonly settling = new Set<Promise<void>>();
  private active = 0;
  /** Evicted transfers still winding down, counted in `active` but not against the limit. */
  private evicting = 0;
  private counts = { started: 0, completed: 0, failed: 0, refused: 0, evicted: 0, bytesSent: 0 };
  private closed = false;

  private constructor(deps: TftpServerDeps, roots: FileRoots, socket: Socket, pool: TransferPool | null) {
    this.pool = pool;
    this.settings = deps.settings;
    this.logger = deps.logger;
    this.makeSocket = deps.socketFactory ?? udp4;
    this.retransmit = deps.retransmit ?? DEFAULT_RETRANSMIT;
    this.limits = {
      maxBlksize: deps.settings.maxBlksize,
      maxWindowsize: deps.maxWindowsize ?? DEFAULT_MAX_WINDOWSIZE,
      maxWindowBytes: MAX_WINDOW_BYTES,
      maxTimeoutSeconds: deps.settings.maxTimeoutSeconds,
    };
    this.sharedSlots = deps.settings.maxTransfers - reservedSlots(deps.settings.maxTransfers);
    this.cache = new FileCache(
      deps.cacheFileBytes ?? DEFAULT_CACHE_FILE_BYTES,
      deps.cacheTotalBytes ?? DEFAULT_CACHE_TOTAL_BYTES,
    );
    this.roots = roots;
    this.socket = socket;
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.request(msg, rinfo));
    socket.on('error', (err: Error) => this.logger.error({ err }, 'tftp listening socket error'));
  }

  static async start(deps: TftpServerDeps): Promise<TftpServerCore> {
    const roots = await FileRoots.open({
      roots: deps.settings.roots,
      extraRoot: deps.settings.extraRoot,
      logger: deps.logger,
    });
    const threads = defaultTransferThreads(deps);
    let pool: TransferPool | null = null;
    if (threads > 0) {
      try {
        pool = await TransferPool.start(threads);
      } catch (err) {
        // Still a working server, only a slower one for concurrent transfers.
        deps.logger.warn({ err }, 'tftp transfer threads unavailable; transfers are served from the main thread');
      }
    }
    const socket = (deps.socketFactory ?? udp4)();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        socket.close();
        void pool?.close();
        reject(
          new KindlingError(
            'TFTP_LISTEN',
            `tftp cannot listen ` +
              `on ${deps.settings.listen}:${deps.settings.port} (tftp.listen, ` +
              `tftp.port): ${err.message}`,
            {
              listen: deps.settings.listen,
              port: deps.settings.port,
            },
          ),
        );
      };
      socket.once('error', fail);
      socket.bind(deps.settings.port, deps.settings.listen, () => {
        socket.off('error', fail);
        resolve();
      });
    });
    const server = new TftpServerCore(deps, roots, socket, pool);
    deps.logger.info(
      { ...socket.address(), roots: roots.list, transferThreads: pool?.threadCount ?? 0 },
      'tftp listening',
    );
    return server;
  }

  address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  stats(): TftpStats {
    return { active: this.active, ...this.counts, cache: this.cache.stats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    await Promise.all([...this.transfers].map((transfer) => transfer.abort('server shutting down')));
    // Requests still resolving see `closed` and release what they opened.
    while (this.settling.size > 0) await Promise.all([...this.settling]);
    // Transfers dispatched while close() waited above are ended too, then the threads go.
    await Promise.all([...this.transfers].map((transfer) => transfer.abort('server shutting down')));
    await this.pool?.close();
    this.cache.clear();
  }

  private refuse(packet: Buffer, rinfo: RemoteInfo): void {
    this.counts.refused++;
    this.socket.send(packet, 0, packet.length, rinfo.port, rinfo.address);
  }

  private request(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const peer = `${rinfo.address}:${rinfo.port}`;
    const op = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
    // RFC 1350 section 7: never answer an ERROR, or two confused hosts answer each other forever.
    if (op === Opcode.ERROR) return;
    if (op === Opcode.WRQ) return this.refuse(READ_ONLY, rinfo);
    if (op !== Opcode.RRQ) return this.refuse(NOT_A_REQUEST, rinfo);
    const decoded = decodePacket(msg);
    if (!decoded.ok || decoded.packet.op !== 'RRQ') {
      const reason = decoded.ok ? 'not a read request' : decoded.reason;
      this.logger.info({ client: peer, reason }, 'tftp malformed request refused');
      return this.refuse(encodeError(TftpErrorCode.ILLEGAL_OPERATION, `malformed request: ${reason}`), rinfo);
    }
    const { filename: requested, mode: rawMode, options } = decoded.packet;
    // The name as logs and replies show it; the full name is only looked up, after checks.
    const filename = clip(requested);
    const existing = this.peers.get(peer);
    if (existing !== undefined) {
      // The same RRQ again before any ACK is the client retransmitting: one transfer is
      // already answering it. Anything else from that port is a client that restarted
      // (firmware often reuses its source port), so the old transfer gives way.
      if (existing.transfer === null) return;
      if (existing.filename === requested && !existing.transfer.hasProgress) return existing.transfer.repeatStart();
      void existing.transfer.abort('superseded by a new request from the same port', false);
    }
    const mode = parseMode(rawMode);
    if (mode === null)
      return this.refuse(
        encodeError(TftpErrorCode.ILLEGAL_OPERATION, `unknown mode "${clip(rawMode, 64)}"; expected octet or netascii`),
        rinfo,
      );
    const path = checkRequestPath(requested);
    if (!path.ok) {
      this.logger.warn({ client: peer, filename, reason: path.reason }, 'tftp path refused');
      return this.refuse(encodeError(TftpErrorCode.ACCESS_VIOLATION, `path refused: ${path.reason}`), rinfo);
    }
    const fromClient = this.perClient.get(rinfo.address) ?? 0;
    if (fromClient >= this.settings.maxPerClient) return this.refuse(CLIENT_BUSY, rinfo);
    const inUse = this.active - this.evicting;
    // The reserve (reservedSlots) is for addresses holding nothing; when even it is gone,
    // such an address may still displace a transfer that never got an ACK.
    const full =
      fromClient > 0 ? inUse >= this.sharedSlots : inUse >= this.settings.maxTransfers && !this.evictStalled();
    if (full) return this.refuse(BUSY, rinfo);

    this.active++;
    this.perClient.set(rinfo.address, fromClient + 1);
    const entry: PeerEntry = { filename: requested, transfer: null, startedAt: Date.now(), evicted: false };
    // Deleted first so the map stays in request order for evictStalled.
    this.peers.delete(peer);
    this.peers.set(peer, entry);
    this.counts.started++;
    const release = (result: TransferResult): void => {
      this.active--;
      if (entry.evicted) this.evicting--;
      const left = (this.perClient.get(rinfo.address) ?? 1) - 1;
      if (left === 0) this.perClient.delete(rinfo.address);
      else this.perClient.set(rinfo.address, left);
      if (this.peers.get(peer) === entry) this.peers.delete(peer);
      this.counts.bytesSent += result.bytes;
      if (result.ok) this.counts.completed++;
      else this.counts.failed++;
      this.logger[result.ok ? 'debug' : 'info'](
        { client: peer, filename, bytes: result.bytes, reason: clip(result.reason) },
        result.ok ? 'tftp transfer complete' : 'tftp transfer ended early',
      );
    };
    const settled = this.begin(rinfo, entry, filename, path.segments, mode, options, release).catch((err: Error) => {
      this.logger.error({ client: peer, filename, err }, 'tftp transfer setup failed');
      this.refuse(encodeError(TftpErrorCode.NOT_DEFINED, 'internal error'), rinfo);
      release({ ok: false, reason: err.message, bytes: 0 });
    });
    this.settling.add(settled);
    void settled.then(() => this.settling.delete(settled));
  }

  /** Ends the oldest transfer that has had no ACK for STALLED_MS; false if there is none. */
  private evictStalled(): boolean {
    const before = Date.now() - STALLED_MS;
    // The map is in request order, so the first match is the oldest.
    for (const [peer, entry] of this.peers) {
      if (entry.startedAt > before) break;
      if (entry.transfer === null || entry.evicted || entry.transfer.hasProgress) continue;
      entry.evicted = true;
      this.evicting++;
      this.counts.evicted++;
      this.logger.info(
        { client: peer, filename: clip(entry.filename) },
        'tftp transfer without an ACK ended to make room',
      );
      void entry.transfer.abort('server busy');
      return true;
    }
    return false;
  }

  private async begin(
    rinfo: RemoteInfo,
    entry: PeerEntry,
    filename: string,
    segments: string[],
    mode: 'octet' | 'netascii',
    options: ReadonlyArray<readonly [string, string]>,
    release: (result: TransferResult) => void,
  ): Promise<void> {
    const refuseAndRelease = (code: number, message: string, reason: string): void => {
      this.refuse(encodeError(code, message), rinfo);
      release({ ok: false, reason, bytes: 0 });
    };
    const found = await this.roots.resolve(segments);
    if (this.closed) return release({ ok: false, reason: 'server closed', bytes: 0 });
    if (!found.ok) {
      if (found.kind === 'access')
        this.logger.warn(
          { client: `${rinfo.address}:${rinfo.port}`, filename, reason: found.reason },
          'tftp path refused',
        );
      return found.kind === 'not-found'
        ? refuseAndRelease(TftpErrorCode.FILE_NOT_FOUND, 'file not found', `not found: ${filename}`)
        : refuseAndRelease(TftpErrorCode.ACCESS_VIOLATION, 'access violation', found.reason);
    }
    const { path, stats } = found.file;
    if (mode === 'netascii' && !this.cache.fits(stats.size)) {
      return refuseAndRelease(
        TftpErrorCode.NOT_DEFINED,
        'file too large for netascii; use octet mode',
        'netascii too large',
      );
    }
    // tsize must be the size on the wire, which netascii changes, so its bytes come first.
    const cached =
      mode === 'netascii'
        ? await this.cache.get(path, stats, 'netascii', toNetascii)
        : this.cache.fits(stats.size)
          ? await this.cache.get(path, stats)
          : null;
    const size = cached === null ? stats.size : cached.length;
    const negotiated = negotiate(options, size, this.limits);
    if (!negotiated.ok) return refuseAndRelease(TftpErrorCode.OPTION_NEGOTIATION, negotiated.reason, negotiated.reason);
    const { blksize, windowsize, timeoutMs, oack } = negotiated.value;
    if (this.closed) return release({ ok: false, reason: 'server closed', bytes: 0 });
    const plan: TransferPlan = {
      path: cached === null ? path : null,
      shared: cached,
      size,
      listen: this.settings.listen,
      peer: { address: rinfo.address, port: rinfo.port },
      blksize,
      windowsize,
      oack: oack === null ? null : encodeOack(oack),
      clientTimeoutMs: timeoutMs,
      retransmit: this.retransmit,
      maxLifetimeMs: this.settings.maxTransferSeconds * 1000,
    };
    const remote =
      this.pool?.run(plan, {
        onEnd: (result) => {
          this.transfers.delete(remote!);
          release(result);
        },
        onFailed: (err) => {
          this.transfers.delete(remote!);
          this.logger.error({ client: `${rinfo.address}:${rinfo.port}`, filename, err }, 'tftp transfer setup failed');
          this.refuse(encodeError(TftpErrorCode.NOT_DEFINED, 'internal error'), rinfo);
          release({ ok: false, reason: err.message, bytes: 0 });
        },
      }) ?? null;
    if (remote !== null) {
      this.transfers.add(remote);
      entry.transfer = remote;
      return;
    }
    const transfer: ReadTransfer = await openReadTransfer(plan, this.makeSocket, {
      onEnd: (result) => {
        this.transfers.delete(transfer);
        release(result);
      },
    });
    // Ended quietly: the client has seen nothing yet and close() is not waiting for it.
    if (this.closed) return transfer.abort('server closed', false);
    this.transfers.add(transfer);
    entry.transfer = transfer;
    transfer.start();
  }
}
