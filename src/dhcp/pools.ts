// Several address pools in one full-mode server: the local one (`dhcp.range`, the
// server's own link) and one per relayed network (`dhcp.relayPools`). A relay puts
// its own address on the client's network in `giaddr` (RFC 2131 §4.1, RFC 1542 §4.1.1),
// so the pool is the one whose subnet contains giaddr. Leases of all pools share one
// journal; a record belongs to the pool whose subnet holds its address, since no two
// pools share a subnet (checked by the configuration schema).
import type { JournalRecord } from './lease-journal.js';
import { ipToInt } from './packet.js';
import { inSubnet, type Pool } from '../net/ipv4.js';

export type PoolChoice = { index: number; by: 'local' | 'giaddr' | 'ciaddr' } | { index: null; by: 'unknown-relay' };

/**
 * Which pool serves a request; `pools[0]` is the local pool.
 * - giaddr set: the pool whose subnet contains it, or none (drop: a network we do not serve).
 * - giaddr 0: the client is on our link, or is renewing by unicast straight to us from
 *   a relayed network (RFC 2131 §4.3.2 RENEWING, and RELEASE/INFORM), so a ciaddr in a
 *   relay pool's subnet picks that pool; anything else is the local pool.
 */
export function choosePool(
  req: { giaddr: string; ciaddr: string },
  pools: ReadonlyArray<{ pool: Pick<Pool, 'network' | 'mask'> }>,
): PoolChoice {
  if (req.giaddr !== '0.0.0.0') {
    const i = pools.findIndex((p) => inSubnet(req.giaddr, p.pool));
    return i < 0 ? { index: null, by: 'unknown-relay' } : { index: i, by: 'giaddr' };
  }
  if (req.ciaddr !== '0.0.0.0') {
    for (let i = 1; i < pools.length; i++) if (inSubnet(req.ciaddr, pools[i]!.pool)) return { index: i, by: 'ciaddr' };
  }
  return { index: 0, by: 'local' };
}

/**
 * Splits journal records by pool: each goes to the pool whose subnet contains its
 * address. Records of no configured pool (a pool since removed) stay with the local
 * pool, as every record did before relay pools existed, so they survive compaction.
 */
export function recordsByPool(
  records: Iterable<JournalRecord>,
  pools: ReadonlyArray<Pick<Pool, 'network' | 'mask'>>,
): JournalRecord[][] {
  const out: JournalRecord[][] = pools.map(() => []);
  for (const r of records) {
    const i =
      typeof r.ip === 'string' && !Number.isNaN(ipToInt(r.ip))
        ? pools.findIndex((p, n) => n > 0 && inSubnet(r.ip, p))
        : -1;
    out[i > 0 ? i : 0]!.push(r);
  }
  return out;
}

/**
 * At most one log line per key per interval, with how many were held back. Bounded:
 * at most `maxKeys` keys are remembered and at most `maxKeys` lines logged per
 * interval, so a flood of random giaddrs grows neither memory nor the log.
 */
export class PerKeyLogLimit {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();
  /** Lines held back because every slot was taken (a flood of distinct keys). */
  overflow = 0;
  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Null when this one should not be logged; otherwise how many were suppressed since the last line. */
  take(key: string, now: number): number | null {
    const s = this.seen.get(key);
    if (s && now - s.at < this.intervalMs) {
      s.suppressed++;
      return null;
    }
    this.seen.delete(key);
    // Entries are in the order they were last logged, so the first is the oldest.
    for (const [k, v] of this.seen) {
      if (this.seen.size < this.maxKeys) break;
      if (now - v.at < this.intervalMs) {
        // Every slot logged within the interval: a flood of new keys; stay quiet.
        this.overflow++;
        return null;
      }
      this.seen.delete(k);
    }
    this.seen.set(key, { at: now, suppressed: 0 });
    return s?.suppressed ?? 0;
  }
}
