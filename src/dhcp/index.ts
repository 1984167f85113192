// The DHCP service as main.ts starts it: decide the mode (probing the link first when
// full mode could fight another server), open the journal, bind the ports, serve.
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type pino from 'pino';
import type { KindlingConfig } from '../config/schema.js';
import { createFullModeHandler, type RelayPoolSetup } from './full-mode.js';
import { requireInterface, UNFILTERED_WARNING } from './interface.js';
import type { DhcpInventory } from './inventory.js';
import { LeaseJournal, type JournalStats } from './lease-journal.js';
import { LeaseTable } from './lease-table.js';
import { DEFAULT_PROBE_MS, probeForDhcpServer, type ProbeAnswer } from './probe.js';
import { createProxyModeHandler } from './proxy-mode.js';
import { PXE_PORT, SERVER_PORT, type DhcpHandler } from './reply.js';
import { guarded } from './safe-handler.js';
import { openPort, type PortSockets } from './sockets.js';
import { intToIp } from './packet.js';
import { recordsByPool } from './pools.js';
import { makePool, makeRelayPool, type Pool } from '../net/ipv4.js';
import { describeDhcpReason, type DhcpReason, type OtherDhcpServer } from '../system/service-status.js';

export type { DhcpInventory, BootOfferEvent } from './inventory.js';
export { startRackDhcp, type RackDhcp } from './rack.js';

/** Offers held at most; far above a rack's worth of machines booting at once. */
const MAX_PENDING_OFFERS = 4096;
/** RFC 2131 §4.3.1 leaves the offer hold time to the server; clients answer within seconds. */
const OFFER_HOLD_MS = 60_000;
const DECLINE_HOLD_MS = 600_000;
/** Packets being handled at once (mostly waiting for a lease sync); past this, new ones are dropped. */
const MAX_IN_FLIGHT = 2048;

export interface DhcpStatus {
  configuredMode: KindlingConfig['dhcp']['mode'];
  /** The mode in force. */
  mode: 'off' | 'proxy' | 'full';
  /** Why this mode (src/system/service-status.ts words it for a person). */
  reason: DhcpReason;
  /** Other DHCP servers the start-up probe heard; any at all means no addresses from Kindling. */
  otherServers: OtherDhcpServer[];
  /** The local pool handed out (full mode), else null. */
  range: { start: string; end: string } | null;
  leases: number;
  pendingOffers: number;
  handlerFailures: number;
  dropped: number;
  journal: JournalStats | null;
}

export interface DhcpServer {
  status(): DhcpStatus;
  /** The address leased to a MAC now (full mode), or null. */
  leasedAddress(mac: string): string | null;
  close(): Promise<void>;
}

export interface StartDhcpOptions {
  config: KindlingConfig['dhcp'];
  serverIp: string;
  httpBaseUrl: string;
  dataDir: string;
  logger: pino.Logger;
  inventory: DhcpInventory;
  /** For tests: how long the start-up probe listens. */
  probeTimeoutMs?: number;
  now?: () => number;
}

export const leaseJournalPath = (dataDir: string): string => path.join(dataDir, 'state', 'dhcp-leases.jsonl');

function interfaceMac(name: string | null, serverIp: string): Uint8Array {
  const all = os.networkInterfaces();
  const candidates = [
    ...((name && all[name]) || []),
    ...Object.values(all)
      .flatMap((l) => l ?? [])
      .filter((a) => a.address === serverIp),
  ];
  const found = candidates.find((a) => a.family === 'IPv4' && a.mac && a.mac !== '00:00:00:00:00:00');
  if (found) return Uint8Array.from(found.mac.split(':').map((h) => Number.parseInt(h, 16)));
  // A locally administered address (RFC 7042 §2.1): never a real card's.
  const mac = randomBytes(6);
  mac[0] = (mac[0]! & 0xfe) | 0x02;
  return mac;
}

export async function startDhcpServer(options: StartDhcpOptions): Promise<DhcpServer> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const log = logger.child({ service: 'dhcp' });
  let mode: DhcpStatus['mode'] = 'off';
  let reason: DhcpReason = 'configured-off';
  const otherServers: OtherDhcpServer[] = [];
  let pool: Pool | null = null;
  let relayPools: Pool[] = [];
  const makePools = () => {
    const local = makePool({ range: config.range, subnetMask: config.subnetMask, serverIp: options.serverIp });
    relayPools = config.relayPools.map((r, i) => makeRelayPool(r, i, options.serverIp));
    return local;
  };

  if (config.mode === 'full') pool = makePools();
  if (config.mode !== 'off') {
    if (config.interface === null) log.warn({ key: 'dhcp.interface' }, UNFILTERED_WARNING);
    else requireInterface(config.interface);
  }
  if (config.mode === 'full' || config.mode === 'auto') {
    const answer = await probeForDhcpServer({
      serverIp: options.serverIp,
      device: config.interface,
      mac: interfaceMac(config.interface, options.serverIp),
      timeoutMs: options.probeTimeoutMs ?? DEFAULT_PROBE_MS,
    });
    if (answer) {
      otherServers.push({ server: answer.server, offered: answer.offered });
      mode = 'proxy';
      reason = 'other-server-seen';
      log.error(
        { otherServer: answer.server, configuredMode: config.mode },
        `dhcp: ${describeDhcpReason({ configuredMode: config.mode, reason, otherServers })}`,
      );
    } else {
      pool ??= makePools();
      mode = 'full';
      reason = 'no-other-server';
    }
  } else if (config.mode === 'proxy') {
    mode = 'proxy';
    reason = 'configured-proxy';
  }

  if (mode === 'off') {
    return {
      status: () => ({
        configuredMode: config.mode,
        mode,
        reason,
        otherServers,
        range: null,
        leases: 0,
        pendingOffers: 0,
        handlerFailures: 0,
        dropped: 0,
        journal: null,
      }),
      leasedAddress: () => null,
      close: async () => undefined,
    };
  }

  const policy = { bootFiles: config.bootFiles, httpBaseUrl: options.httpBaseUrl };
  let tables: LeaseTable[] = [];
  let journal: LeaseJournal | null = null;
  let handler: DhcpHandler;
  if (mode === 'full' && pool) {
    // One table per pool (reservations apply in the pool whose subnet holds the
    // reserved address), one journal for all: records are routed by address.
    const newTable = (p: Pool) =>
      new LeaseTable({
        pool: p,
        serverIp: options.serverIp,
        offerMs: OFFER_HOLD_MS,
        maxOffers: MAX_PENDING_OFFERS,
        declineMs: DECLINE_HOLD_MS,
        reservationFor: (mac) => options.inventory.reservationFor(mac),
        reservationOwner: (ip) => options.inventory.reservationOwner(ip),
      });
    const allPools = [pool, ...relayPools];
    tables = allPools.map(newTable);
    const t = tables[0]!;
    const opened = await LeaseJournal.open(leaseJournalPath(options.dataDir), () =>
      tables.flatMap((x) => x.snapshot()),
    );
    recordsByPool(opened.records, allPools).forEach((records, i) => tables[i]!.replay(records));
    journal = opened.journal;
    const relays: RelayPoolSetup[] = config.relayPools.map((r, i) => ({
      key: `dhcp.relayPools[${i}]`,
      pool: relayPools[i]!,
      network: {
        subnetMask: r.subnetMask,
        router: r.router,
        dns: r.dns,
        domain: r.domain === undefined ? config.domain : r.domain,
        leaseSeconds: r.leaseSeconds ?? config.leaseSeconds,
      },
      table: tables[i + 1]!,
    }));
    handler = createFullModeHandler({
      serverIp: options.serverIp,
      pool,
      network: {
        subnetMask: config.subnetMask,
        router: config.router,
        dns: config.dns,
        domain: config.domain,
        leaseSeconds: config.leaseSeconds,
      },
      policy,
      table: t,
      relayPools: relays,
      journal: opened.journal,
      inventory: options.inventory,
      logger: log,
      now,
    });
  } else {
    handler = createProxyModeHandler({ serverIp: options.serverIp, policy, inventory: options.inventory, logger: log });
  }
  const safe = guarded(handler, log, now);

  let inFlight = 0;
  let dropped = 0;
  const ports: PortSockets[] = [];
  const serve = (localPort: number) => (data: Buffer, from: { address: string; port: number }) => {
    if (inFlight >= MAX_IN_FLIGHT) {
      dropped++;
      return;
    }
    inFlight++;
    void safe.handle({ data, from, localPort }).then((replies) => {
      inFlight--;
      const sockets = ports[localPort === SERVER_PORT ? 0 : 1];
      for (const r of replies) sockets?.send(r.data, r.to.address, r.to.port);
    });
  };
  const onError = (err: Error) => log.debug({ err }, 'dhcp: socket error');
  try {
    const device = config.interface;
    ports.push(
      await openPort({ port: SERVER_PORT, serverIp: options.serverIp, device, onMessage: serve(SERVER_PORT), onError }),
    );
    if (mode === 'proxy')
      ports.push(
        await openPort({ port: PXE_PORT, serverIp: options.serverIp, device, onMessage: serve(PXE_PORT), onError }),
      );
  } catch (err) {
    await Promise.all(ports.map((p) => p.close()));
    await journal?.close();
    throw err;
  }
  const range = mode === 'full' ? { start: config.range.start, end: config.range.end } : null;
  log.info(
    {
      mode,
      reason: describeDhcpReason({ configuredMode: config.mode, reason, otherServers }),
      serverIp: options.serverIp,
      interface: config.interface ?? 'every interface',
      relayPools: mode === 'full' ? relayPools.length : 0,
    },
    'dhcp: serving',
  );

  return {
    leasedAddress: (mac) => {
      const lease = tables.map((t) => t.leaseOf(mac)).find((l) => l !== undefined && l.expiresAt > now());
      return lease ? intToIp(lease.ip) : null;
    },
    status: () => ({
      configuredMode: config.mode,
      mode,
      reason,
      otherServers,
      range,
      leases: tables.reduce((n, t) => n + t.activeCount(now()), 0),
      pendingOffers: tables.reduce((n, t) => n + t.pendingOffers, 0),
      handlerFailures: safe.failures,
      dropped,
      journal: journal ? { ...journal.stats } : null,
    }),
    close: async () => {
      await Promise.all(ports.map((p) => p.close()));
      await journal?.close();
    },
  };
}

/** Asks the link, as a client would, whether a DHCP server other than `serverIp` answers on `device`. */
export function probeLink(options: {
  serverIp: string;
  device: string | null;
  timeoutMs?: number;
}): Promise<ProbeAnswer | null> {
  return probeForDhcpServer({
    serverIp: options.serverIp,
    device: options.device,
    mac: interfaceMac(options.device, options.serverIp),
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_MS,
  });
}
