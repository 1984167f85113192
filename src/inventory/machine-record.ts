import type { TokenFields } from './callback-tokens.js';
import { newToken } from './callback-tokens.js';
import type { MachineDeclaration } from './declarations.js';
import type { MachineState } from './lifecycle.js';

// What Kindling keeps per machine (persisted by machine-store.ts), what the rest of
// Kindling sees of it (a record merged with its machines.yaml entry), and the events
// its history is made of. Data and pure views only: rules are in lifecycle.ts, the
// orchestration in inventory.ts.

export interface MachineFacts {
  /** iPXE ${buildarch} or the DHCP client architecture seen. */
  arch: string | null;
  /** pcbios or efi. */
  platform: string | null;
  uuid: string | null;
  /** The address the machine last spoke from. */
  lastIp: string | null;
}

export const factKeys = ['arch', 'platform', 'uuid', 'lastIp'] as const;

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
  /** Set while a forget spans machines.yaml and machines.jsonl; the next start finishes it. */
  forgetting?: true;
}

/**
 * A machine as the rest of Kindling sees it: the record merged with its declaration.
 * Without the tokens and the update key: a renderer asks for them (callbackToken, updateKey), nothing else sees them.
 */
export interface Machine extends Omit<MachineRecord, keyof TokenFields> {
  name: string | null;
  profile: string | null;
  reservedIp: string | null;
  vars: Record<string, string>;
  declared: boolean;
}

/** What DHCP tells the inventory when it offers a boot file (`Inventory.recordBootOffer`). */
export interface BootOfferEvent {
  mac: string;
  /** RFC 4578 §2.1 architecture type the client reported, if any. */
  arch: number | null;
  vendorClass: string | null;
  userClass: string | null;
  /** The address given in full mode; null in proxy mode (the site's server gives it). */
  ip: string | null;
  bootFile: string;
  mode: 'full' | 'proxy';
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

/** A machine not seen before: discovered, with fresh tokens and update key. */
export function newRecord(mac: string, seenAt: string | null, now: string): MachineRecord {
  return {
    mac,
    state: 'discovered',
    stateSince: now,
    firstSeen: seenAt,
    lastSeen: seenAt,
    token: newToken(),
    targetToken: newToken(),
    updateKey: newToken(),
    autoName: null,
    autoProfile: null,
    facts: { arch: null, platform: null, uuid: null, lastIp: null },
    installs: 0,
    lastError: null,
  };
}

/** The record as others see it: machines.yaml wins over the unknown-machine rule; tokens left out. */
export function machineView(record: MachineRecord, decl: MachineDeclaration | undefined): Machine {
  const { token: _install, targetToken: _target, spentTokens: _spent, updateKey: _update, ...rest } = record;
  return {
    ...rest,
    name: decl?.name ?? record.autoName,
    profile: decl?.profile ?? record.autoProfile,
    reservedIp: decl?.ip ?? null,
    vars: decl?.vars ?? {},
    declared: decl !== undefined,
  };
}
