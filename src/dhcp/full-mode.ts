// Full DHCP (RFC 2131 §4.3): addresses from the pool or reservations, plus the boot
// file for network-boot clients. An ACK leaves only after its lease is durable.
import type pino from 'pino';
import { bootOffer, recordSafely, type DhcpInventory } from './inventory.js';
import type { JournalRecord } from './lease-journal.js';
import type { LeaseTable } from './lease-table.js';
import { encode, MessageType, Opt, optionIp, optionString } from './options.js';
import { intToIp, type DhcpPacket } from './packet.js';
import { choosePxeBoot, isBootClient, type PxePolicyConfig } from './pxe-policy.js';
import {
  bootFields,
  buildReply,
  destination,
  nakFlags,
  pxeFacts,
  readRequest,
  type DhcpHandler,
  type Incoming,
  type Outgoing,
} from './reply.js';
import { choosePool, PerKeyLogLimit } from './pools.js';
import type { Pool } from '../net/ipv4.js';

export interface PoolNetwork {
  subnetMask: string;
  router: string | null;
  dns: readonly string[];
  domain: string | null;
  leaseSeconds: number;
}

/** One relayed network's pool, its options and its lease table. */
export interface RelayPoolSetup {
  /** Names the pool in logs: `dhcp.relayPools[0]`. */
  key: string;
  pool: Pool;
  network: PoolNetwork;
  table: LeaseTable;
}

/** How often a relay from a network without a pool is logged, per giaddr. */
export const UNKNOWN_RELAY_LOG_MS = 60_000;

export interface FullModeOptions {
  serverIp: string;
  /** The local pool: `dhcp.range` on the server's own link. */
  pool: Pool;
  network: PoolNetwork;
  policy: PxePolicyConfig;
  table: LeaseTable;
  /** Pools for relayed networks (`dhcp.relayPools`), chosen by giaddr. */
  relayPools?: readonly RelayPoolSetup[];
  journal: { append(record: JournalRecord): Promise<void> };
  inventory: DhcpInventory;
  logger: pino.Logger;
  now: () => number;
}

interface Served {
  key: string;
  pool: Pool;
  table: LeaseTable;
  leaseMs: number;
  networkOptions: Array<[number, Uint8Array]>;
  leaseOptions: Array<[number, Uint8Array]>;
}

/** Precomputed once per pool: the options every ACK and OFFER carry, in importance order. */
function served(key: string, pool: Pool, network: PoolNetwork, table: LeaseTable): Served {
  const networkOptions: Array<[number, Uint8Array]> = [[Opt.SubnetMask, encode.ip(network.subnetMask)]];
  if (network.router) networkOptions.push([Opt.Router, encode.ip(network.router)]);
  if (network.dns.length) networkOptions.push([Opt.Dns, encode.ips(network.dns)]);
  if (network.domain) networkOptions.push([Opt.DomainName, encode.str(network.domain)]);
  networkOptions.push([Opt.Broadcast, encode.ip(intToIp(pool.broadcast))]);
  const leaseOptions: Array<[number, Uint8Array]> = [
    [Opt.LeaseTime, encode.u32(network.leaseSeconds)],
    // RFC 2131 §4.4.5: T1 = 0.5 and T2 = 0.875 of the lease.
    [Opt.Renewal, encode.u32(Math.floor(network.leaseSeconds / 2))],
    [Opt.Rebinding, encode.u32(Math.floor(network.leaseSeconds * 0.875))],
  ];
  return { key, pool, table, leaseMs: network.leaseSeconds * 1000, networkOptions, leaseOptions };
}

export function createFullModeHandler(o: FullModeOptions): DhcpHandler {
  const serverId = encode.ip(o.serverIp);
  const pools: Served[] = [
    served('dhcp.range', o.pool, o.network, o.table),
    ...(o.relayPools ?? []).map((r) => served(r.key, r.pool, r.network, r.table)),
  ];
  // One line per unknown giaddr per minute: a misconfigured relay repeats every few seconds per client.
  const unknownRelays = new PerKeyLogLimit(UNKNOWN_RELAY_LOG_MS, 1024);

  const boot = (req: DhcpPacket, mac: string, ip: string | null, record: boolean) => {
    const facts = pxeFacts(req);
    if (!isBootClient(facts)) return { siaddr: '0.0.0.0', file: '', options: [] as Array<[number, Uint8Array]> };
    const decision = choosePxeBoot(facts, o.policy);
    if (record) {
      if (decision.kind === 'none')
        o.logger.warn(
          { mac, arch: facts.arch, reason: decision.reason },
          'dhcp: network-boot client gets an address but no boot file',
        );
      else {
        o.logger.info({ mac, arch: facts.arch, bootFile: decision.bootFile, ip, mode: 'full' }, 'dhcp: boot offer');
        recordSafely(o.inventory, bootOffer(mac, facts, decision.bootFile, ip, 'full'), o.logger);
      }
    }
    return bootFields(req, decision, o.serverIp, false);
  };

  const reply = (
    p: Served,
    req: DhcpPacket,
    type: number,
    yiaddr: string,
    mac: string,
    withLease: boolean,
    record: boolean,
  ): Outgoing => {
    const b = boot(req, mac, yiaddr === '0.0.0.0' ? null : yiaddr, record);
    const data = buildReply(req, {
      type,
      yiaddr,
      ciaddr: type === MessageType.Ack ? req.ciaddr : '0.0.0.0',
      siaddr: b.siaddr,
      file: b.file,
      options: [[Opt.ServerId, serverId], ...(withLease ? p.leaseOptions : []), ...p.networkOptions, ...b.options],
    });
    return { data, to: destination(req, false) };
  };

  const nak = (req: DhcpPacket, mac: string, reason: string): Outgoing[] => {
    o.logger.debug({ mac, reason }, 'dhcp: NAK');
    const data = buildReply(
      { ...req, flags: nakFlags(req) },
      {
        type: MessageType.Nak,
        options: [
          [Opt.ServerId, serverId],
          [Opt.Message, encode.str(reason.slice(0, 200))],
        ],
      },
    );
    return [{ data, to: destination({ ...req, flags: nakFlags(req) }, true) }];
  };

  const persist = async (record: JournalRecord | null, mac: string): Promise<boolean> => {
    if (!record) return true;
    try {
      await o.journal.append(record);
      return true;
    } catch (err) {
      o.logger.error({ err, mac }, 'dhcp: lease not written to disk; no ACK sent');
      return false;
    }
  };

  async function handle(message: Incoming): Promise<Outgoing[]> {
    if (message.localPort !== 67) return [];
    const request = readRequest(message, o.logger);
    if (request === null || request.type === null) return [];
    const { req, mac, type } = request;
    const now = o.now();
    // A relayed request is for the network the relay sits on (giaddr).
    const choice = choosePool(req, pools);
    if (choice.index === null) {
      const suppressed = unknownRelays.take(req.giaddr, now);
      if (suppressed !== null) {
        o.logger.warn(
          { giaddr: req.giaddr, mac, suppressed },
          'dhcp: relayed request from a network with no pool (add it to ' +
            'dhcp.relayPools); dropped, logged once a minute per relay',
        );
      }
      return [];
    }
    const p = pools[choice.index]!;
    const ours = optionIp(req, Opt.ServerId);
    switch (type) {
      case MessageType.Discover: {
        const ip = p.table.offer(mac, optionIp(req, Opt.RequestedIp), now);
        if (ip === null) {
          o.logger.warn(
            { mac, giaddr: req.giaddr },
            `dhcp: no free address ` +
              `in ${p.key === 'dhcp.range' ? 'dhcp.range' : `${p.key}.range`}; ` +
              `DISCOVER not answered`,
          );
          return [];
        }
        return [reply(p, req, MessageType.Offer, intToIp(ip), mac, true, true)];
      }
      case MessageType.Request: {
        if (ours !== null && ours !== o.serverIp) {
          // RFC 2131 §4.3.2: the client chose another server's offer.
          p.table.dropOffer(mac);
          return [];
        }
        const wanted = optionIp(req, Opt.RequestedIp) ?? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : null);
        if (wanted === null) return [];
        const check = p.table.check(mac, wanted, now);
        if (!check.ok) return nak(req, mac, check.reason);
        const record = p.table.bind(mac, check.ip, now, p.leaseMs, optionString(req, Opt.HostName));
        if (!(await persist(record, mac))) return [];
        return [reply(p, req, MessageType.Ack, wanted, mac, true, false)];
      }
      case MessageType.Decline: {
        if (ours !== o.serverIp) return [];
        const ip = optionIp(req, Opt.RequestedIp);
        if (ip === null) return [];
        const record = p.table.decline(mac, ip, now);
        if (record)
          o.logger.warn({ mac, ip }, 'dhcp: client declined an address (another host uses it); kept out of the pool');
        await persist(record, mac);
        return [];
      }
      case MessageType.Release: {
        if (ours !== null && ours !== o.serverIp) return [];
        await persist(p.table.release(mac, req.ciaddr, now), mac);
        return [];
      }
      case MessageType.Inform: {
        // RFC 2131 §4.3.5: configuration only: no yiaddr, no lease time, unicast to ciaddr.
        if (req.ciaddr === '0.0.0.0' && req.giaddr === '0.0.0.0') return [];
        return [reply(p, req, MessageType.Ack, '0.0.0.0', mac, false, false)];
      }
      default:
        return [];
    }
  }

  return { handle };
}
