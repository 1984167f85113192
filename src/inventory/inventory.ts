import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { UnknownMachineRule } from '../config/schema.js';
import { KindlingError } from '../errors.js';
import { EventLog } from '../store/event-log.js';
import { JsonDocument } from '../store/json-document.js';
import { SerialQueue } from '../store/serial-queue.js';
import { newToken, redeemToken, rotateTokens, tokenFor, type ConfigPhase, type Redemption, type TokenFields } from './callback-tokens.js';
import type { Declarations } from './declarations.js';
import { assertTransition, type MachineState } from './lifecycle.js';
import type { Profile } from './profile.js';

// Machines keyed by MAC, their lifecycle and their history. Every state change goes
// through here and is recorded as an event; the API, the page (SSE) and the log read
// the same events. Names, profiles and reservations come from machines.yaml (see
// declarations.ts); this file keeps what Kindling learns and decides.

export interface MachineFacts {
  /** iPXE ${buildarch} or the DHCP client architecture seen. */
  arch: string | null;
  /** pcbios or efi. */
  platform: string | null;
  uuid: string | null;
  /** The address the machine last spoke from. */
  lastIp: string | null;
}

/** Callback tokens (callback-tokens.ts): only this machine's rendered configs carry them. */
export interface MachineRecord extends TokenFields {
  mac: string;
  state: MachineState;
  stateSince: string;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Set by the unknown-machine rule; machines.yaml overrides both. */
  autoName: string | null;
  autoProfile: string | null;
  facts: MachineFacts;
  installs: number;
  lastError: string | null;
  /** Set while a forget spans machines.yaml and machines.json; the next start finishes it. */
  forgetting?: true;
}

/**
 * A machine as the rest of Kindling sees it: the record merged with its declaration.
 * Without the tokens: a renderer asks for one (callbackToken), nothing else sees them.
 */
export interface Machine extends Omit<MachineRecord, keyof TokenFields> {
  name: string | null;
  profile: string | null;
  reservedIp: string | null;
  vars: Record<string, string>;
  declared: boolean;
}

export interface InventoryEvent {
  at: string;
  mac: string;
  type: string;
  message: string;
  from?: MachineState;
  to?: MachineState;
  data?: Record<string, unknown>;
}

interface StateDocument {
  version: 1;
  nextNumber: number;
  machines: Record<string, MachineRecord>;
}

export interface InventoryOptions {
  stateDir: string;
  declarations: Declarations;
  unknownRule: UnknownMachineRule;
  clock?: () => Date;
  /** How many recent events the API keeps in memory. */
  recentEvents?: number;
}

export class Inventory {
  readonly events = new EventEmitter();
  private readonly doc: JsonDocument<StateDocument>;
  private readonly log: EventLog<InventoryEvent>;
  private readonly declarations: Declarations;
  private readonly clock: () => Date;
  private readonly recentLimit: number;
  private unknownRule: UnknownMachineRule;
  private recent: InventoryEvent[] = [];
  /** Admin changes (assign, reinstall, forget) one at a time: each sees the last one's result. */
  private readonly changes = new SerialQueue();

  private constructor(options: InventoryOptions, doc: JsonDocument<StateDocument>, log: EventLog<InventoryEvent>) {
    this.doc = doc;
    this.log = log;
    this.declarations = options.declarations;
    this.unknownRule = options.unknownRule;
    this.clock = options.clock ?? (() => new Date());
    this.recentLimit = options.recentEvents ?? 2000;
    this.events.setMaxListeners(0);
  }

  static async open(options: InventoryOptions): Promise<Inventory> {
    const doc = await JsonDocument.open<StateDocument>({ file: path.join(options.stateDir, 'machines.json'), mode: 0o600 }, { version: 1, nextNumber: 1, machines: {} });
    const log = new EventLog<InventoryEvent>({ file: path.join(options.stateDir, 'events.jsonl') });
    const inventory = new Inventory(options, doc, log);
    inventory.recent = (await log.readAll()).slice(-inventory.recentLimit);
    // A write failure here (full disk) is reported by the write's own caller or the next flush, never a crash.
    options.declarations.onChange(() => void inventory.reconcile().catch(() => undefined));
    for (const record of Object.values(doc.data.machines)) if (record.forgetting) await inventory.forget(record.mac);
    // Records from before tokens had phases get their target token now, durably, so a
    // config served before a restart still carries the token the machine will use.
    const unphased = Object.values(doc.data.machines).filter((r) => !r.targetToken);
    for (const record of unphased) record.targetToken = newToken();
    if (unphased.length) await doc.touch();
    await inventory.reconcile();
    return inventory;
  }

  setUnknownRule(rule: UnknownMachineRule): void {
    this.unknownRule = rule;
  }

  list(): Machine[] {
    return Object.values(this.doc.data.machines)
      .map((r) => this.view(r))
      .sort((a, b) => (a.name ?? a.mac).localeCompare(b.name ?? b.mac));
  }

  get(mac: string): Machine | null {
    const record = this.doc.data.machines[mac];
    return record ? this.view(record) : null;
  }

  require(mac: string): Machine {
    const machine = this.get(mac);
    if (!machine) throw new KindlingError('MACHINE_UNKNOWN', `no machine with MAC ${mac} has been seen or declared in machines.yaml`, { mac });
    return machine;
  }

  profileOf(machine: Machine): { profile: Profile | null; problem: string | null } {
    if (!machine.profile) return { profile: null, problem: null };
    const profile = this.declarations.profiles.get(machine.profile) ?? null;
    return profile ? { profile, problem: null } : { profile: null, problem: `profile "${machine.profile}" does not exist or does not load; see /healthz` };
  }

  recentEvents(mac?: string, limit = 200): InventoryEvent[] {
    const events = mac ? this.recent.filter((e) => e.mac === mac) : this.recent;
    return events.slice(-limit);
  }

  /**
   * A machine asked for its boot script (or sent DHCP). A new MAC becomes
   * `discovered`; the unknown-machine rule may assign it a profile and a name.
   * Facts are kept in memory and persisted with the next real change, so a request
   * costs no SD-card write unless something changed.
   */
  async seen(mac: string, facts: Partial<MachineFacts>, source: string): Promise<Machine> {
    const now = this.clock().toISOString();
    let record = this.doc.data.machines[mac];
    let changed = false;
    if (!record) {
      record = this.newRecord(mac, now);
      this.doc.data.machines[mac] = record;
      this.emit({ at: now, mac, type: 'discovered', to: 'discovered', message: `first seen via ${source}`, data: { ...facts } });
      changed = true;
    }
    if (record.firstSeen === null) {
      record.firstSeen = now;
      changed = true;
    }
    record.lastSeen = now;
    for (const key of ['arch', 'platform', 'uuid', 'lastIp'] as const) {
      const value = facts[key];
      if (value && value !== record.facts[key]) {
        record.facts[key] = value;
        changed = true;
      }
    }
    if (this.applyUnknownRule(record, now)) changed = true;
    if (this.reconcileRecord(record, now)) changed = true;
    if (changed) await this.doc.touch();
    return this.view(record);
  }

  /** Moves a machine to a new state, records the event, and resolves once it is durable. */
  async transition(mac: string, to: MachineState, message: string, data?: Record<string, unknown>): Promise<Machine> {
    const record = this.requireRecord(mac);
    const from = record.state;
    assertTransition(mac, from, to);
    const now = this.clock().toISOString();
    record.state = to;
    record.stateSince = now;
    if (to === 'installing' && from !== 'installing') record.installs += 1;
    if (to === 'failed') record.lastError = message;
    if (to === 'installed' || to === 'running') record.lastError = null;
    this.emit({ at: now, mac, type: 'state', from, to, message, ...(data ? { data } : {}) });
    await this.doc.touch();
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
        throw new KindlingError('PROFILE_UNKNOWN', `there is no profile "${profile}"; known profiles: ${[...this.declarations.profiles.keys()].join(', ') || '(none)'}`, { profile });
      }
      if (!this.doc.data.machines[mac]) this.doc.data.machines[mac] = this.newRecord(mac, null);
      await this.declarations.upsertMachine({ mac, profile, name });
      await this.reconcile();
      return this.require(mac);
    });
  }

  /** The next network boot installs again; the old token stops working. */
  requestReinstall(mac: string): Promise<Machine> {
    return this.changes.run(async () => {
      const record = this.requireRecord(mac);
      if (!this.view(record).profile) throw new KindlingError('MACHINE_UNASSIGNED', `machine ${mac} has no profile; assign one before asking for a reinstall`, { mac });
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
      await this.doc.touch();
      if (this.declarations.machine(mac)) await this.declarations.removeMachine(mac);
      delete this.doc.data.machines[mac];
      this.emit({ at: this.clock().toISOString(), mac, type: 'forgotten', message: 'machine forgotten' });
      await this.doc.touch();
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
  recordBootOffer(offer: { mac: string; arch: number | null; vendorClass: string | null; userClass: string | null; ip: string | null; bootFile: string; mode: 'full' | 'proxy' }): void {
    const firmware = offer.arch === null ? null : pxeFirmware(offer.arch);
    this.seen(offer.mac, { platform: firmware?.platform ?? null, arch: firmware?.arch ?? null, lastIp: offer.ip }, `DHCP (${offer.mode})`)
      .then(() => this.note(offer.mac, 'dhcp-offer', `DHCP ${offer.mode}: offered ${offer.bootFile}${offer.ip ? ` and ${offer.ip}` : ''} (client arch ${offer.arch ?? 'unknown'})`, { ...offer }))
      .catch(() => undefined);
  }

  /** The callback token a config rendered now for that phase carries. */
  callbackToken(mac: string, phase: ConfigPhase): string {
    return tokenFor(this.requireRecord(mac), phase);
  }

  /**
   * A node's callback reporting state `to`. A live token of the right phase is spent
   * and the state changes; the node's retry with the spent token only confirms the
   * state it already reported; anything else is refused and nothing changes. Resolves
   * once the new token and the state are durable.
   */
  callback(mac: string, token: string, to: MachineState, message: string, data?: Record<string, unknown>): Promise<{ redemption: Redemption; machine: Machine | null }> {
    return this.changes.run(async () => {
      const record = this.doc.data.machines[mac];
      if (!record) return { redemption: 'refused' as const, machine: null };
      const before = { token: record.token, targetToken: record.targetToken, spentTokens: record.spentTokens };
      const redemption = redeemToken(record, token, to);
      if (redemption !== 'fresh') return { redemption, machine: this.view(record) };
      if (record.state === to) {
        await this.doc.touch();
        return { redemption, machine: this.view(record) };
      }
      try {
        assertTransition(mac, record.state, to);
      } catch (err) {
        // A callback the lifecycle refuses (409) leaves the token usable.
        Object.assign(record, before);
        throw err;
      }
      return { redemption, machine: await this.transition(mac, to, message, data) };
    });
  }

  /** Brings records in line with machines.yaml: declared machines exist, states follow profiles. */
  async reconcile(): Promise<void> {
    const now = this.clock().toISOString();
    let changed = false;
    for (const decl of this.declarations.machines) {
      if (!this.doc.data.machines[decl.mac]) {
        this.doc.data.machines[decl.mac] = this.newRecord(decl.mac, null);
        this.emit({ at: now, mac: decl.mac, type: 'declared', to: 'discovered', message: 'declared in machines.yaml' });
        changed = true;
      }
    }
    for (const record of Object.values(this.doc.data.machines)) {
      if (this.reconcileRecord(record, now)) changed = true;
    }
    if (changed) await this.doc.touch();
  }

  /** Whether the event history reaches the disk: failed appends and the last reason. */
  storageStatus(): { failures: number; lastError: string | null } {
    return { failures: this.log.failures, lastError: this.log.lastError };
  }

  async flush(): Promise<void> {
    await Promise.all([this.doc.flush(), this.log.flush()]);
  }

  private reconcileRecord(record: MachineRecord, now: string): boolean {
    const machine = this.view(record);
    const move = (to: MachineState, message: string) => {
      this.emit({ at: now, mac: record.mac, type: 'state', from: record.state, to, message });
      record.state = to;
      record.stateSince = now;
    };
    if (record.state === 'discovered' && machine.profile) {
      move('assigned', `profile ${machine.profile} assigned`);
      return true;
    }
    if (record.state !== 'discovered' && !machine.profile) {
      move('discovered', 'profile removed; waiting for one');
      return true;
    }
    return false;
  }

  private applyUnknownRule(record: MachineRecord, now: string): boolean {
    const rule = this.unknownRule;
    if (rule === 'wait' || record.autoProfile || this.view(record).profile) return false;
    const names = new Set(this.list().map((m) => m.name));
    let name: string;
    do {
      name = rule.name.replace(/\{\{n\}\}/g, String(this.doc.data.nextNumber++));
    } while (names.has(name));
    record.autoName = name;
    record.autoProfile = rule.profile;
    this.emit({ at: now, mac: record.mac, type: 'auto-assigned', message: `unknown machine rule: named ${name}, profile ${rule.profile}` });
    return true;
  }

  private view(record: MachineRecord): Machine {
    const decl = this.declarations.machine(record.mac);
    const { token: _install, targetToken: _target, spentTokens: _spent, ...rest } = record;
    return {
      ...rest,
      name: decl?.name ?? record.autoName,
      profile: decl?.profile ?? record.autoProfile,
      reservedIp: decl?.ip ?? null,
      vars: decl?.vars ?? {},
      declared: decl !== undefined,
    };
  }

  private requireRecord(mac: string): MachineRecord {
    const record = this.doc.data.machines[mac];
    if (!record) throw new KindlingError('MACHINE_UNKNOWN', `no machine with MAC ${mac} has been seen or declared in machines.yaml`, { mac });
    return record;
  }

  private newRecord(mac: string, seenAt: string | null): MachineRecord {
    const now = this.clock().toISOString();
    return {
      mac,
      state: 'discovered',
      stateSince: now,
      firstSeen: seenAt,
      lastSeen: seenAt,
      token: newToken(),
      targetToken: newToken(),
      autoName: null,
      autoProfile: null,
      facts: { arch: null, platform: null, uuid: null, lastIp: null },
      installs: 0,
      lastError: null,
    };
  }

  private emit(event: InventoryEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.recentLimit) this.recent.splice(0, this.recent.length - this.recentLimit);
    this.log.append(event);
    this.events.emit('event', event);
  }
}

/** RFC 4578 §2.1 client architecture types, in the terms iPXE later reports. */
function pxeFirmware(arch: number): { platform: string; arch: string | null } {
  switch (arch) {
    case 0:
      return { platform: 'pcbios', arch: null };
    case 6:
      return { platform: 'efi', arch: 'i386' };
    case 7:
    case 9:
    case 16:
      return { platform: 'efi', arch: 'x86_64' };
    case 11:
    case 19:
      return { platform: 'efi', arch: 'arm64' };
    default:
      return { platform: 'efi', arch: null };
  }
}
