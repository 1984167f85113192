// The full-mode address book: leases, pending offers and declined addresses, in
// memory, with the clock passed in. Durable state is the journal's job; this file
// decides which address a client gets. Keyed by MAC, not option 61: the PXE ROM, iPXE
// and the installed OS each send a different client id (or none) for one machine, and
// it should keep one address through all three (see docs/decisions.md).
import type { JournalRecord } from './lease-journal.js';
import { intToIp, ipToInt } from './packet.js';
import { inSubnet, type Pool } from '../net/ipv4.js';

export interface Lease {
  mac: string;
  ip: number;
  expiresAt: number;
  hostName: string | null;
}

export interface LeaseTableOptions {
  pool: Pool;
  serverIp: string;
  /** How long a pending offer holds its address (RFC 2131 §4.3.1 leaves it to the server). */
  offerMs: number;
  /** Pending offers kept at most; the oldest goes first, so a DISCOVER flood cannot grow memory. */
  maxOffers: number;
  /** How long a declined address stays out of the pool (dnsmasq uses 10 minutes too). */
  declineMs: number;
  reservationFor(mac: string): string | null;
  /** The MAC an address is reserved for, if any, so the pool never hands it to another. */
  reservationOwner(ip: string): string | null;
}

export type AssignCheck = { ok: true; ip: number } | { ok: false; reason: string };

export class LeaseTable {
  private readonly byMac = new Map<string, Lease>();
  private readonly byIp = new Map<number, Lease>();
  private readonly offers = new Map<string, { ip: number; expiresAt: number }>();
  private readonly offeredIps = new Map<number, string>();
  private readonly declined = new Map<number, number>();
  private readonly server: number;
  private cursor: number;

  constructor(private readonly o: LeaseTableOptions) {
    this.server = ipToInt(o.serverIp);
    this.cursor = o.pool.start;
  }

  get pendingOffers(): number {
    return this.offers.size;
  }

  activeCount(now: number): number {
    let n = 0;
    for (const l of this.byMac.values()) if (l.expiresAt > now) n++;
    return n;
  }

  leaseOf(mac: string): Lease | undefined {
    return this.byMac.get(mac);
  }

  replay(records: Iterable<JournalRecord>): void {
    for (const r of records) {
      const ip = ipToInt(r.ip);
      if (Number.isNaN(ip)) continue;
      if (r.t === 'bind' && typeof r.mac === 'string' && typeof r.exp === 'number')
        this.setLease(r.mac, ip, r.exp, r.host ?? null);
      else if (r.t === 'release') {
        const l = this.byMac.get(r.mac);
        if (l && l.ip === ip) l.expiresAt = Math.min(l.expiresAt, r.at);
      } else if (r.t === 'decline' && typeof r.until === 'number') this.declined.set(ip, r.until);
    }
  }

  /** The live state as journal records, for compaction. */
  snapshot(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const l of this.byMac.values())
      out.push({ t: 'bind', mac: l.mac, ip: intToIp(l.ip), exp: l.expiresAt, host: l.hostName });
    for (const [ip, until] of this.declined) out.push({ t: 'decline', ip: intToIp(ip), until });
    return out;
  }

  /** Picks the address to offer (RFC 2131 §4.3.1 order: binding, then requested, then free) and holds it. */
  offer(mac: string, requested: string | null, now: number): number | null {
    const ip = this.choose(mac, requested, now);
    if (ip === null) return null;
    this.holdOffer(mac, ip, now);
    return ip;
  }

  private choose(mac: string, requested: string | null, now: number): number | null {
    const reserved = this.o.reservationFor(mac);
    if (reserved !== null) {
      const r = ipToInt(reserved);
      if (!Number.isNaN(r) && inSubnet(reserved, this.o.pool) && this.freeFor(mac, r, now)) return r;
    }
    const pending = this.offers.get(mac);
    if (pending && pending.expiresAt > now && this.freeFor(mac, pending.ip, now)) return pending.ip;
    const lease = this.byMac.get(mac);
    if (lease && this.poolable(mac, lease.ip, now)) return lease.ip;
    if (requested !== null) {
      const r = ipToInt(requested);
      if (!Number.isNaN(r) && this.poolable(mac, r, now)) return r;
    }
    const { start, end } = this.o.pool;
    const size = end - start + 1;
    // Never-used addresses first, so an expired lease keeps its address for its old
    // owner as long as possible ("stable addresses per client").
    for (let i = 0; i < size; i++) {
      const ip = start + ((this.cursor - start + i) % size);
      if (!this.byIp.has(ip) && this.poolable(mac, ip, now)) {
        this.cursor = ip === end ? start : ip + 1;
        return ip;
      }
    }
    let oldest: Lease | null = null;
    for (const l of this.byIp.values()) {
      if (l.expiresAt <= now && (!oldest || l.expiresAt < oldest.expiresAt) && this.poolable(mac, l.ip, now))
        oldest = l;
    }
    return oldest ? oldest.ip : null;
  }

  /** Nobody else holds `ip` now: no live lease, no pending offer, not declined, not the server. */
  private freeFor(mac: string, ip: number, now: number): boolean {
    if (ip === this.server || ip === this.o.pool.network || ip === this.o.pool.broadcast) return false;
    const until = this.declined.get(ip);
    if (until !== undefined) {
      if (until > now) return false;
      this.declined.delete(ip);
    }
    const l = this.byIp.get(ip);
    if (l && l.mac !== mac && l.expiresAt > now) return false;
    const offeredTo = this.offeredIps.get(ip);
    if (offeredTo !== undefined && offeredTo !== mac) {
      const o = this.offers.get(offeredTo);
      if (o && o.ip === ip && o.expiresAt > now) return false;
    }
    return true;
  }

  /** Free, inside the dynamic range, and not reserved for another machine. */
  private poolable(mac: string, ip: number, now: number): boolean {
    if (ip < this.o.pool.start || ip > this.o.pool.end) return false;
    const owner = this.o.reservationOwner(intToIp(ip));
    if (owner !== null && owner !== mac) return false;
    return this.freeFor(mac, ip, now);
  }

  private holdOffer(mac: string, ip: number, now: number): void {
    this.dropOffer(mac);
    while (this.offers.size >= this.o.maxOffers) {
      const oldest = this.offers.keys().next().value;
      if (oldest === undefined) break;
      this.dropOffer(oldest);
    }
    this.offers.set(mac, { ip, expiresAt: now + this.o.offerMs });
    this.offeredIps.set(ip, mac);
  }

  dropOffer(mac: string): void {
    const o = this.offers.get(mac);
    if (!o) return;
    this.offers.delete(mac);
    if (this.offeredIps.get(o.ip) === mac) this.offeredIps.delete(o.ip);
  }

  /** RFC 2131 §4.3.2: may this client have `ip` (from option 50 or ciaddr)? */
  check(mac: string, ipText: string, now: number): AssignCheck {
    const ip = ipToInt(ipText);
    if (Number.isNaN(ip) || ip === 0) return { ok: false, reason: 'no requested address' };
    if (!inSubnet(ipText, this.o.pool)) return { ok: false, reason: `${ipText} is not on this network` };
    const reserved = this.o.reservationFor(mac);
    if (reserved !== null && reserved !== ipText) {
      const r = ipToInt(reserved);
      // Move the client to its reservation, unless someone else still holds that.
      if (!Number.isNaN(r) && inSubnet(reserved, this.o.pool) && this.freeFor(mac, r, now))
        return { ok: false, reason: `${mac} is reserved ${reserved}` };
    }
    if (reserved === ipText)
      return this.freeFor(mac, ip, now)
        ? { ok: true, ip }
        : { ok: false, reason: `${ipText} is in use by another client` };
    if (ip < this.o.pool.start || ip > this.o.pool.end) return { ok: false, reason: `${ipText} is outside dhcp.range` };
    const owner = this.o.reservationOwner(ipText);
    if (owner !== null && owner !== mac) return { ok: false, reason: `${ipText} is reserved for ${owner}` };
    return this.freeFor(mac, ip, now)
      ? { ok: true, ip }
      : { ok: false, reason: `${ipText} is in use by another client` };
  }

  bind(mac: string, ip: number, now: number, leaseMs: number, hostName: string | null): JournalRecord {
    this.dropOffer(mac);
    const exp = now + leaseMs;
    this.setLease(mac, ip, exp, hostName);
    return { t: 'bind', mac, ip: intToIp(ip), exp, host: hostName };
  }

  private setLease(mac: string, ip: number, expiresAt: number, hostName: string | null): void {
    const previousOfIp = this.byIp.get(ip);
    if (previousOfIp && previousOfIp.mac !== mac) this.byMac.delete(previousOfIp.mac);
    const previousOfMac = this.byMac.get(mac);
    if (previousOfMac && previousOfMac.ip !== ip) this.byIp.delete(previousOfMac.ip);
    const lease: Lease = { mac, ip, expiresAt, hostName };
    this.byMac.set(mac, lease);
    this.byIp.set(ip, lease);
  }

  /** RFC 2131 §4.3.4: the address goes back to the pool, but the client keeps first claim on it. */
  release(mac: string, ipText: string, now: number): JournalRecord | null {
    const l = this.byMac.get(mac);
    if (!l || intToIp(l.ip) !== ipText || l.expiresAt <= now) return null;
    l.expiresAt = now;
    return { t: 'release', mac, ip: ipText, at: now };
  }

  /** RFC 2131 §4.3.3: another host answers ARP for the address; keep it out of the pool. */
  decline(mac: string, ipText: string, now: number): JournalRecord | null {
    const ip = ipToInt(ipText);
    if (Number.isNaN(ip)) return null;
    const l = this.byIp.get(ip);
    const offered = this.offers.get(mac);
    if (!(l && l.mac === mac) && !(offered && offered.ip === ip)) return null;
    this.dropOffer(mac);
    if (l && l.mac === mac) {
      this.byIp.delete(ip);
      this.byMac.delete(mac);
    }
    const until = now + this.o.declineMs;
    this.declined.set(ip, until);
    return { t: 'decline', ip: ipText, until };
  }
}
