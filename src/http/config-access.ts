import type { Machine } from '../inventory/inventory.js';

// Who may read a machine's config. A config carries the machine's callback token and
// whatever secrets its profile renders, so knowing a MAC (printed on the case, seen in
// any broadcast) must not be enough. A fetch must come from an address bound to that
// machine: the one Kindling's DHCP leased to its MAC (full mode), its reservation in
// machines.yaml, or, when Kindling leased it nothing (proxy mode, static addresses),
// the address its last /ipxe request came from. docs/security.md states what is left:
// in proxy mode, whoever can ask /ipxe for a MAC in the right moment can also read.

export interface ConfigAccessOptions {
  /** The address Kindling's DHCP has leased to a MAC now, or null. */
  leasedAddress: (mac: string) => string | null;
  /** Config fetches one source address may make per minute. */
  perMinute?: number;
  clock?: () => number;
}

export type AccessVerdict =
  | { ok: true }
  | { ok: false; code: 'CONFIG_ADDRESS' | 'CONFIG_RATE_LIMITED'; reason: string; retryAfterSeconds?: number };

const windowMs = 60_000;
/** Sources tracked at once; past this the oldest windows are forgotten (a flood of spoofed sources stays bounded). */
const maxSources = 4096;

export class ConfigAccess {
  private readonly perMinute: number;
  private readonly clock: () => number;
  /** Per source address: the start of its current minute and the fetches in it. */
  private readonly windows = new Map<string, { start: number; count: number }>();
  /** Per machine and kind of fetch: the state it was last recorded in, so repeats do not each become an event. */
  private readonly lastNoted = new Map<string, string>();

  constructor(private readonly options: ConfigAccessOptions) {
    this.perMinute = options.perMinute ?? 30;
    this.clock = options.clock ?? Date.now;
  }

  /** The addresses a config fetch for this machine may come from. */
  boundAddresses(machine: Machine): string[] {
    const leased = this.options.leasedAddress(machine.mac);
    const addresses = [machine.reservedIp, leased ?? machine.facts.lastIp];
    return [...new Set(addresses.filter((a): a is string => a !== null))];
  }

  /**
   * Whether `source` may read this machine's config. `fromThisBox` (a request the box
   * made to itself) always may: the box already holds every config's inputs.
   */
  check(machine: Machine, source: string, fromThisBox: boolean): AccessVerdict {
    if (fromThisBox) return { ok: true };
    const limited = this.spend(source);
    if (limited) return limited;
    const bound = this.boundAddresses(machine);
    if (bound.includes(source)) return { ok: true };
    const where = bound.length ? bound.join(' or ') : 'no address yet (it has not booted through DHCP or /ipxe)';
    return {
      ok: false,
      code: 'CONFIG_ADDRESS',
      reason:
        `the config of ${machine.mac} is served only to the machine itself, ` +
        `at ${where}; this request came from ${source}`,
    };
  }

  /** True the first time a fetch of this kind is seen for the machine in its current state. */
  firstOfItsKind(machine: Machine, kind: string): boolean {
    const key = `${machine.mac} ${kind}`;
    const since = `${machine.state}@${machine.stateSince}`;
    if (this.lastNoted.get(key) === since) return false;
    this.lastNoted.delete(key);
    this.lastNoted.set(key, since);
    if (this.lastNoted.size > maxSources) this.lastNoted.delete(this.lastNoted.keys().next().value!);
    return true;
  }

  private spend(source: string): AccessVerdict | null {
    const now = this.clock();
    let window = this.windows.get(source);
    if (!window || now - window.start >= windowMs) {
      this.windows.delete(source);
      window = { start: now, count: 0 };
      this.windows.set(source, window);
      if (this.windows.size > maxSources) this.windows.delete(this.windows.keys().next().value!);
    }
    window.count++;
    if (window.count <= this.perMinute) return null;
    const retryAfterSeconds = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
    return {
      ok: false,
      code: 'CONFIG_RATE_LIMITED',
      reason:
        `more than ${this.perMinute} config fetches in a minute ` +
        `from ${source}; try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    };
  }
}
