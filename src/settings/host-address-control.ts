import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ConfigChange } from '../config/config-file.js';
import { KindlingError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import {
  hostAddressStatusSchema,
  type HostAddressRequest,
  type HostAddressStatus,
} from '../system/host-address-protocol.js';

// Kindling's side of the Pi's own address: it writes the request the root-side helper
// acts on (DIR/request.json, watched by kindling-host-address.path), reads the helper's
// status, and writes the operator's confirmation (DIR/confirm.json). One change at a
// time: a second one while the first waits is refused, so no confirmation can ever
// apply to a request the operator did not see.

export interface PendingHostAddress {
  request: HostAddressRequest;
  /** kindling.yaml keys written at confirmation, and the ones that put them back. */
  changes: ConfigChange[];
  undo: ConfigChange[];
  since: Date;
}

export interface HostAddressControlOptions {
  managed: boolean;
  /** DATADIR/host-address: the request and the confirmation. */
  dir: string;
  /** The helper's report (server.hostAddress.statusFile). */
  statusFile: string;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

const unfinished = new Set(['applying', 'waiting-confirm']);
/** A request the helper has not picked up after this is reported as such, not waited on forever. */
export const helperSilentMs = 20_000;

export class HostAddressControl {
  readonly managed: boolean;
  private pendingChange: PendingHostAddress | null = null;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HostAddressControlOptions) {
    this.managed = options.managed;
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async status(): Promise<HostAddressStatus | null> {
    try {
      const parsed = hostAddressStatusSchema.safeParse(JSON.parse(await fs.readFile(this.options.statusFile, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /**
   * The helper's status and the change in flight, from one read of the status file; the
   * change is cleared once the helper reports it finished.
   */
  async state(): Promise<{ status: HostAddressStatus | null; pending: PendingHostAddress | null }> {
    const status = await this.status();
    const p = this.pendingChange;
    if (p && status?.id === p.request.id && !unfinished.has(status.state)) this.pendingChange = null;
    return { status, pending: this.pendingChange };
  }

  newId(): string {
    return randomBytes(12).toString('base64url');
  }

  async submit(pending: Omit<PendingHostAddress, 'since'>): Promise<void> {
    const { status, pending: inFlight } = await this.state();
    if (inFlight) {
      const silent = status?.id !== inFlight.request.id;
      if (!(silent && this.clock().getTime() - inFlight.since.getTime() > helperSilentMs))
        throw new KindlingError(
          'HOST_ADDRESS_PENDING',
          `a change to ${inFlight.request.address ?? 'DHCP'} is still waiting for its confirmation; ` +
            `confirm it from the new address, or wait until it goes back`,
          { id: inFlight.request.id },
        );
    }
    this.pendingChange = { ...pending, since: this.clock() };
    await writeFileAtomic(
      path.join(this.options.dir, 'request.json'),
      `${JSON.stringify(pending.request, null, 2)}\n`,
      // Group-readable: the helper is root without CAP_DAC_OVERRIDE, in the kindling group.
      0o640,
    );
  }

  /**
   * The operator's confirmation: written for the helper, then waited on until it saved
   * the address (confirmed) or the clock ran out first (reverted). Resolves to that status.
   */
  async confirm(id: string, timeoutMs = 15_000): Promise<HostAddressStatus> {
    await writeFileAtomic(path.join(this.options.dir, 'confirm.json'), `${JSON.stringify({ id })}\n`, 0o640);
    const until = this.clock().getTime() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (status?.id === id && !unfinished.has(status.state)) {
        this.pendingChange = null;
        return status;
      }
      if (this.clock().getTime() >= until)
        throw new KindlingError(
          'HOST_ADDRESS_HELPER_SILENT',
          `the address helper did not answer the confirmation within ${timeoutMs / 1000} s; ` +
            `see journalctl -u kindling-host-address`,
          { id },
        );
      await this.sleep(250);
    }
  }
}
