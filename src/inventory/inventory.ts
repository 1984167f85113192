import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { UnknownMachineRule } from '../config/schema.js';
import { KindlingError } from '../errors.js';
import { EventLog } from '../store/event-log.js';
import type { JournalStats } from '../store/journal.js';
import { SerialQueue } from '../store/serial-queue.js';
import { firmwareOfClientArch } from './architectures.js';
import { newToken, redeemToken, rotateTokens, tokenFor, type ConfigPhase, type Redemption } from './callback-tokens.js';
import type { Declarations } from './declarations.js';
import {
  defaultDiscoveryLimits,
  DiscoveryGate,
  RefusalWarnings,
  type DiscoveryLimits,
  type Refusal,
} from './discovery-gate.js';
import { assertTransition, enterState, profileDrivenMove, type MachineState } from './lifecycle.js';
import {
  factKeys,
  machineView,
  newRecord,
  type BootOfferEvent,
  type InventoryEvent,
  type Machine,
  type MachineFacts,
  type MachineRecord,
} from './machine-record.js';
import { MachineStore } from './machine-store.js';
import type { Profile } from './profile.js';

// Machines keyed by MAC, their lifecycle and their history. Every state change goes
// through here and is recorded as an event; the API, the page (SSE) and the log read
// the same events. Names, profiles and reservations come from machines.yaml (see
// declarations.ts); records are kept by machine-store.ts, their shape is in
// machine-record.ts, the rules of state changes in lifecycle.ts. This file applies them.

export type { Machine, MachineFacts, MachineRecord, InventoryEvent } from './machine-record.js';

export interface InventoryOptions {
  stateDir: string;
  declarations: Declarations;
  unknownRule: UnknownMachineRule;
  clock?: () => Date;
  /** How many recent events the API keeps in memory. */
  recentEvents?: number;
  /** Bounds on recording MACs that machines.yaml does not declare. */
  discovery?: DiscoveryLimits;
}

export class Inventory {
  readonly events = new EventEmitter();
  private readonly store: MachineStore;
  private readonly log: EventLog<InventoryEvent>;
  private readonly declarations: Declarations;
  private readonly clock: () => Date;
  private readonly recentLimit: number;
  private unknownRule: UnknownMachineRule;
  private recent: InventoryEvent[] = [];
  /** Admin changes (assign, reinstall, forget) one at a time: each sees the last one's result. */
  private readonly changes = new SerialQueue();
  private readonly gate: DiscoveryGate;
  /** Answers for MACs that were not recorded, and why: profileOf tells the machine. */
  private readonly refused = new WeakMap<Machine, string>();
  private readonly warnings = new RefusalWarnings();

  private constructor(options: InventoryOptions, store: MachineStore, log: EventLog<InventoryEvent>) {
    this.store = store;
    this.gate = new DiscoveryGate(options.discovery ?? defaultDiscoveryLimits);
    this.log = log;
    this.declarations = options.declarations;
    this.unknownRule = options.unknownRule;
    this.clock = options.clock ?? (() => new Date());
    this.recentLimit = options.recentEvents ?? 2000;
    this.events.setMaxListeners(0);
  }

  static async open(options: InventoryOptions): Promise<Inventory> {
    const store = await MachineStore.open(options.stateDir);
    const log = new EventLog<InventoryEvent>({ file: path.join(options.stateDir, 'events.jsonl') });
    const inventory = new Inventory(options, store, log);
    inventory.recent = (await log.readAll()).slice(-inventory.recentLimit);
    for (const record of [...store.records.values()]) if (record.forgetting) await inventory.forget(record.mac);
    // Records from before tokens had phases get their target token now, and those from
    // before update keys their key, durably: a config served before a restart still
    // carries the token the machine will use and the key its update checks will send.
    const older = [...store.records.values()].filter((r) => !r.targetToken || !r.updateKey);
    for (const record of older) {
      record.targetToken ??= newToken();
      record.updateKey ??= newToken();
    }
    await Promise.all(older.map((r) => store.save(r)));
    await inventory.reconcile();
    return inventory;
  }

  setUnknownRule(rule: UnknownMachineRule): void {
    this.unknownRule = rule;
  }

  setDiscoveryLimits(limits: DiscoveryLimits): void {
    this.gate.setLimits(limits);
  }

  list(): Machine[] {
    return [...this.store.records.values()]
      .map((r) => this.view(r))
      .sort((a, b) => (a.name ?? a.mac).localeCompare(b.name ?? b.mac));
  }

  get(mac: string): Machine | null {
    const record = this.store.records.get(mac);
    return record ? this.view(record) : null;
  }

  require(mac: string): Machine {
    const machine = this.get(mac);
    if (!machine)
      throw new KindlingError(
        'MACHINE_UNKNOWN',
        `no machine with MAC ${mac} has been seen or declared in machines.yaml`,
        { mac },
      );
    return machine;
  }

  profileOf(machine: Machine): { profile: Profile | null; problem: string | null } {
    const refusal = this.refused.get(machine);
    if (refusal) return { profile: null, problem: refusal };
    if (!machine.profile) return { profile: null, problem: null };
    const profile = this.declarations.profiles.get(machine.profile) ?? null;
    return profile
      ? { profile, problem: null }
      : { profile: null, problem: `profile "${machine.profile}" does not exist or does not load; see /healthz` };
  }

  recentEvents(mac?: string, limit = 200): InventoryEvent[] {
    const events = mac ? this.recent.filter((e) => e.mac === mac) : this.recent;
    return events.slice(-limit);
  }

  /**
   * A machine asked for its boot script (or sent DHCP). A new MAC becomes
   * `discovered`; the unknown-machine rule may assign it a profile and a name.
   * Facts are kept in memory and persisted with the next real change, so a request
   * costs no SD-card write unless something changed. A MAC machines.yaml does not
   * declare is recorded only within the discovery limits (`origin` is the source they
   * count per: the client address, or the DHCP service); otherwise the answer is an
   * unrecorded machine whose profileOf() says why, so it waits and asks again.
   */
  async seen(
    mac: string,
    facts: Partial<MachineFacts>,
    source: string,
    origin: string = facts.lastIp ?? source,
  ): Promise<Machine> {
    const clock = this.clock();
    const now = clock.toISOString();
    let record = this.store.records.get(mac);
    let changed = false;
    const counter = this.store.nextNumber;
    if (!record) {
      const refusal = this.declarations.machine(mac)
        ? null
        : this.gate.admit(origin, this.undeclaredCount(), clock.getTime());
      if (refusal) return this.refuse(mac, facts, source, origin, refusal, clock);
      record = this.newRecord(mac, now);
      this.store.records.set(mac, record);
      this.emit({
        at: now,
        mac,
        type: 'discovered',
        to: 'discovered',
        message: `first seen via ${source}`,
        data: { ...facts },
      });
      changed = true;
    }
    if (record.firstSeen === null) {
      record.firstSeen = now;
      changed = true;
    }
    record.lastSeen = now;
    for (const key of factKeys) {
      const value = facts[key];
      if (value && value !== record.facts[key]) {
        record.facts[key] = value;
        changed = true;
      }
    }
    if (this.applyUnknownRule(record, now)) changed = true;
    if (this.reconcileRecord(record, now)) changed = true;
    if (changed)
      await Promise.all([
        this.store.save(record),
        ...(this.store.nextNumber !== counter ? [this.store.saveCounter()] : []),
      ]);
    return this.view(record);
  }

  /** Moves a machine to a new state, records the event, and resolves once it is durable. */
  async transition(mac: string, to: MachineState, message: string, data?: Record<string, unknown>): Promise<Machine> {
    const record = this.requireRecord(mac);
    const from = record.state;
    assertTransition(mac, from, to);
    const now = this.clock().toISOString();
    enterState(record, to, message, now);
    this.emit({ at: now, mac, type: 'state', from, to, message, ...(data ? { data } : {}) });
    await this.store.save(record);
    return this.view(record);
  }

  /** Records something that happened to a machine without changing its state. */
  note(mac: string, type: string, message: string, data?: Record<string, unknown>): void {
    this.emit({ at: this.clock().toISOString(), mac, type, message, ...(data ? { data } : {}) });
  }

  /** Assigns a profile (and optionally a name) by writing machines.yaml, the one source of truth. */
  assign(mac: string, profile: string, name?: string): Promise<Machine> {
    return this.changes.run(async () => {
      if (!this.declarations.profiles.has(profile)) {
        throw new KindlingError(
          'PROFILE_UNKNOWN',
          `there is no profile "${profile}"; known ` +
            `profiles: ${[...this.declarations.profiles.keys()].join(', ') || '(none)'}`,
          { profile },
        );
      }
      // An admin's assign is never subject to the discovery limits.
      if (!this.store.records.has(mac)) await this.store.save(this.newRecord(mac, null));
      await this.declarations.upsertMachine({ mac, profile, name });
      await this.reconcile();
      return this.require(mac);
    });
  }

  /** The next network boot installs again; the old tokens and update key stop working. */
  requestReinstall(mac: string): Promise<Machine> {
    return this.changes.run(async () => {
      const record = this.requireRecord(mac);
      if (!this.view(record).profile)
        throw new KindlingError(
          'MACHINE_UNASSIGNED',
          `machine ${mac} has no profile; assign one before asking for a reinstall`,
          { mac },
        );
      // Checked before the token changes: a refused request (409) must leave the machine as it was.
      assertTransition(mac, record.state, 'reinstall-requested');
      rotateTokens(record);
      return this.transition(mac, 'reinstall-requested', 'reinstall requested');
    });
  }

  /**
   * Drops everything Kindling knows about a machine, including its machines.yaml
   * entry. Two files change, so the record is marked first: a crash in between
   * leaves the mark, and the next start finishes the forget instead of keeping half.
   */
  forget(mac: string): Promise<void> {
    return this.changes.run(async () => {
      const record = this.requireRecord(mac);
      record.forgetting = true;
      await this.store.save(record);
      if (this.declarations.machine(mac)) await this.declarations.removeMachine(mac);
      this.emit({ at: this.clock().toISOString(), mac, type: 'forgotten', message: 'machine forgotten' });
      await this.store.remove(mac);
    });
  }

  /** The address machines.yaml reserves for a MAC (DHCP full mode). */
  reservationFor(mac: string): string | null {
    return this.declarations.machine(mac)?.ip ?? null;
  }

  /** The MAC an address is reserved for, so the pool never lends it to another machine. */
  reservationOwner(ip: string): string | null {
    return this.declarations.machines.find((m) => m.ip === ip)?.mac ?? null;
  }

  /**
   * DHCP offered a boot file to a PXE client: the machine is seen (a new one becomes
   * `discovered`) and a `dhcp-offer` event records what its firmware said. Called on
   * the packet path, so it never throws.
   */
  recordBootOffer(offer: BootOfferEvent): void {
    const firmware = offer.arch === null ? null : firmwareOfClientArch(offer.arch);
    // Counted as one source: the offered address is Kindling's choice, not the sender's.
    this.seen(
      offer.mac,
      { platform: firmware?.platform ?? null, arch: firmware?.arch ?? null, lastIp: offer.ip },
      `DHCP (${offer.mode})`,
      'DHCP',
    )
      .then((machine) => {
        // An unrecorded MAC gets no event per offer: the refusal warning covers it.
        if (this.refused.has(machine)) return;
        this.note(
          offer.mac,
          'dhcp-offer',
          `DHCP ${offer.mode}: ` +
            `offered ${offer.bootFile}${offer.ip ? ` and ${offer.ip}` : ''} (client ` +
            `arch ${offer.arch ?? 'unknown'})`,
          { ...offer },
        );
      })
      .catch(() => undefined);
  }

  /** The callback token a config rendered now for that phase carries. */
  callbackToken(mac: string, phase: ConfigPhase): string {
    return tokenFor(this.requireRecord(mac), phase);
  }

  /**
   * The key a target config rendered now puts in update.conf (SERVER=...?node=KEY). It
   * stays the same across renders and restarts; a reinstall request replaces it.
   */
  updateKey(mac: string): string {
    const record = this.requireRecord(mac);
    if (record.updateKey) return record.updateKey;
    // Inventory.open gave every record a key; this only covers a record built some other way.
    record.updateKey = newToken();
    void this.store.save(record).catch(() => undefined);
    return record.updateKey;
  }

  /** The machine an Omaha request's ?node= key names, or null for a key no machine holds (any more). */
  macForUpdateKey(key: string): string | null {
    return this.store.macForUpdateKey(key);
  }

  /**
   * A node's callback reporting state `to`. A live token of the right phase is spent
   * and the state changes; the node's retry with the spent token only confirms the
   * state it already reported; anything else is refused and nothing changes. Resolves
   * once the new token and the state are durable.
   */
  callback(
    mac: string,
    token: string,
    to: MachineState,
    message: string,
    data?: Record<string, unknown>,
  ): Promise<{ redemption: Redemption; machine: Machine | null; changed: boolean }> {
    return this.changes.run(async () => {
      const record = this.store.records.get(mac);
      if (!record) return { redemption: 'refused' as const, machine: null, changed: false };
      const before = { token: record.token, targetToken: record.targetToken, spentTokens: record.spentTokens };
      const redemption = redeemToken(record, token, to);
      if (redemption !== 'fresh') return { redemption, machine: this.view(record), changed: false };
      if (record.state === to) {
        await this.store.save(record);
        return { redemption, machine: this.view(record), changed: false };
      }
      try {
        assertTransition(mac, record.state, to);
      } catch (err) {
        // A callback the lifecycle refuses (409) leaves the token usable.
        Object.assign(record, before);
        throw err;
      }
      return { redemption, machine: await this.transition(mac, to, message, data), changed: true };
    });
  }

  /** Brings records in line with machines.yaml: declared machines exist, states follow profiles. */
  async reconcile(): Promise<void> {
    const now = this.clock().toISOString();
    const changed = new Set<MachineRecord>();
    for (const decl of this.declarations.machines) {
      if (!this.store.records.has(decl.mac)) {
        const record = this.newRecord(decl.mac, null);
        this.store.records.set(decl.mac, record);
        this.emit({ at: now, mac: decl.mac, type: 'declared', to: 'discovered', message: 'declared in machines.yaml' });
        changed.add(record);
      }
    }
    for (const record of this.store.records.values()) {
      if (this.reconcileRecord(record, now)) changed.add(record);
    }
    await Promise.all([...changed].map((r) => this.store.save(r)));
  }

  /** Whether machine records and the event history reach the disk: failed writes and the last reason. */
  storageStatus(): { failures: number; lastError: string | null } {
    return { failures: this.log.failures + this.store.failures, lastError: this.store.lastError ?? this.log.lastError };
  }

  /** Bytes and syncs of the machine journal since the start (bench/discovery-flood.ts). */
  journalStats(): JournalStats {
    return { ...this.store.stats };
  }

  async flush(): Promise<void> {
    await Promise.all([this.store.flush(), this.log.flush()]);
  }

  /** Flushes, then closes the machine journal; the inventory is not used after this. */
  async close(): Promise<void> {
    await this.flush();
    await this.store.close();
  }

  /** Records machines.yaml does not declare: what machines.maxDiscovered bounds. */
  private undeclaredCount(): number {
    let declared = 0;
    for (const d of this.declarations.machines) if (this.store.records.has(d.mac)) declared++;
    return this.store.records.size - declared;
  }

  /**
   * The answer for a MAC that is not recorded: a machine with no profile, so iPXE waits
   * and asks again, and the reason in its banner. One warning event per reason and
   * window says how many were refused, so a flood does not flood the event history too.
   */
  private refuse(
    mac: string,
    facts: Partial<MachineFacts>,
    source: string,
    origin: string,
    refusal: Refusal,
    clock: Date,
  ): Machine {
    const now = clock.toISOString();
    const record = this.newRecord(mac, now);
    for (const key of factKeys) record.facts[key] = facts[key] ?? null;
    const machine = this.view(record);
    this.refused.set(machine, refusal.message);
    const refused = this.warnings.count(refusal.reason, clock.getTime());
    if (refused !== null) {
      const count = `${refused} new MAC${refused === 1 ? '' : 's'} refused since the last such warning`;
      this.emit({
        at: now,
        mac,
        type: 'discovery-refused',
        message: `${refusal.message}; via ${source}, ${count}`,
        data: { reason: refusal.reason, origin, refused },
      });
    }
    return machine;
  }

  private reconcileRecord(record: MachineRecord, now: string): boolean {
    const move = profileDrivenMove(record.state, this.view(record).profile);
    if (!move) return false;
    this.emit({ at: now, mac: record.mac, type: 'state', from: record.state, to: move.to, message: move.message });
    record.state = move.to;
    record.stateSince = now;
    return true;
  }

  private applyUnknownRule(record: MachineRecord, now: string): boolean {
    const rule = this.unknownRule;
    if (rule === 'wait' || record.autoProfile || this.view(record).profile) return false;
    const names = new Set(this.list().map((m) => m.name));
    let name: string;
    do {
      name = rule.name.replace(/\{\{n\}\}/g, String(this.store.nextNumber++));
    } while (names.has(name));
    record.autoName = name;
    record.autoProfile = rule.profile;
    this.emit({
      at: now,
      mac: record.mac,
      type: 'auto-assigned',
      message: `unknown machine rule: named ${name}, profile ${rule.profile}`,
    });
    return true;
  }

  private view(record: MachineRecord): Machine {
    return machineView(record, this.declarations.machine(record.mac));
  }

  private requireRecord(mac: string): MachineRecord {
    const record = this.store.records.get(mac);
    if (!record)
      throw new KindlingError(
        'MACHINE_UNKNOWN',
        `no machine with MAC ${mac} has been seen or declared in machines.yaml`,
        { mac },
      );
    return record;
  }

  private newRecord(mac: string, seenAt: string | null): MachineRecord {
    return newRecord(mac, seenAt, this.clock().toISOString());
  }

  private emit(event: InventoryEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.recentLimit) this.recent.splice(0, this.recent.length - this.recentLimit);
    this.log.append(event);
    this.events.emit('event', event);
  }
}
