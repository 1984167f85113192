// Whether a MAC nobody declared may become a record. Without a bound, anyone on the
// LAN could grow the inventory by sending /ipxe?mac=... with random MACs (20,000 of
// them once made machines.json 9 MB). Two bounds: a cap on undeclared records,
// and a token bucket per source, so one address cannot use up the cap in a burst.

export interface DiscoveryLimits {
  /** Undeclared machines Kindling records at most (machines.maxDiscovered). */
  maxDiscovered: number;
  /** New machines recorded per source per minute, with a burst of as many (machines.discoveryPerMinute). */
  perSourcePerMinute: number;
}

export const defaultDiscoveryLimits: DiscoveryLimits = { maxDiscovered: 1024, perSourcePerMinute: 20 };

/** Beyond this many sources tracked, the oldest bucket is dropped: memory stays bounded under a spoofed flood. */
const maxSources = 4096;

export type Refusal = { reason: 'cap' | 'rate'; message: string };

export class DiscoveryGate {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private limits: DiscoveryLimits) {}

  setLimits(limits: DiscoveryLimits): void {
    this.limits = limits;
  }

  /** null when the MAC may be recorded (and a token is spent), or why not. */
  admit(origin: string, undeclared: number, nowMs: number): Refusal | null {
    const { maxDiscovered, perSourcePerMinute } = this.limits;
    if (undeclared >= maxDiscovered) {
      return {
        reason: 'cap',
        message:
          `not recorded: Kindling already holds ${maxDiscovered} undeclared machines ` +
          `(machines.maxDiscovered); declare this MAC in machines.yaml`,
      };
    }
    const perMs = perSourcePerMinute / 60_000;
    const bucket = this.buckets.get(origin);
    const tokens = bucket
      ? Math.min(perSourcePerMinute, bucket.tokens + (nowMs - bucket.at) * perMs)
      : perSourcePerMinute;
    if (tokens < 1) {
      if (bucket) Object.assign(bucket, { tokens, at: nowMs });
      return {
        reason: 'rate',
        message:
          `not recorded yet: more than ${perSourcePerMinute} new machines a ` +
          `minute from ${origin} (machines.discoveryPerMinute)`,
      };
    }
    this.buckets.delete(origin); // re-inserted last: the Map's order is the eviction order
    this.buckets.set(origin, { tokens: tokens - 1, at: nowMs });
    if (this.buckets.size > maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    return null;
  }
}

/** At most one `discovery-refused` warning per reason per window, however many MACs are refused. */
const refusalWarningMs = 60_000;

/** Counts refusals and says when one should be warned about, with how many since the last warning. */
export class RefusalWarnings {
  private readonly warnings = new Map<Refusal['reason'], { at: number; refused: number }>();

  /** Counts a refusal; the number refused since the last warning when this one should be warned about, else null. */
  count(reason: Refusal['reason'], nowMs: number): number | null {
    const warning = this.warnings.get(reason) ?? { at: -Infinity, refused: 0 };
    this.warnings.set(reason, warning);
    warning.refused++;
    if (nowMs - warning.at < refusalWarningMs) return null;
    const { refused } = warning;
    Object.assign(warning, { at: nowMs, refused: 0 });
    return refused;
  }
}
