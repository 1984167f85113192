import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MachineState } from './lifecycle.js';

// A machine's callback tokens: one for the install phase (the installer reports
// `installed` or `failed`), one for the target phase (the installed or live system
// reports `running`). Each works once: a successful callback replaces the token it
// used, so a config read by someone else later cannot report for the machine. The
// spent token is kept, hashed, only to answer the node's own retry of that same
// callback (its first answer may have been lost) without changing anything.

export type ConfigPhase = 'install' | 'target';

export interface SpentToken {
  sha256: string;
  /** The state the callback reported; a retry may only confirm it. */
  state: MachineState;
}

export interface TokenFields {
  /** The install phase's token (also the field name before tokens had phases). */
  token: string;
  /** The target phase's token; absent in records written before tokens had phases. */
  targetToken?: string;
  spentTokens?: SpentToken[];
  /**
   * What the machine's update.conf names it by (SERVER=...?node=KEY), so an Omaha request
   * finds its machine from behind NAT too. Not one-use: update_engine sends it every hour.
   * Absent only in records written before update keys; Inventory.open gives them one.
   */
  updateKey?: string;
}

/** What a callback's token turned out to be. */
export type Redemption = 'fresh' | 'repeat' | 'refused';

const keptSpent = 4;

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token rendered into that phase's config. */
export function tokenFor(record: TokenFields, phase: ConfigPhase): string {
  if (phase === 'install') return record.token;
  record.targetToken ??= newToken();
  return record.targetToken;
}

/**
 * Both tokens and the update key replaced: after a reinstall request, nothing rendered
 * before works, and an update check from the old system names no machine.
 */
export function rotateTokens(record: TokenFields): void {
  record.token = newToken();
  record.targetToken = newToken();
  record.updateKey = newToken();
  record.spentTokens = [];
}

/**
 * Checks a callback's token for the state it reports and, if it is a live one,
 * spends it (the record then holds a new token for that phase). `installed` takes the
 * install token, `running` the target token, `failed` either.
 */
export function redeemToken(
  record: TokenFields & { state: MachineState },
  presented: string,
  to: MachineState,
): Redemption {
  const phases: ConfigPhase[] =
    to === 'installed' ? ['install'] : to === 'running' ? ['target'] : ['install', 'target'];
  for (const phase of phases) {
    if (!sameSecret(tokenFor(record, phase), presented)) continue;
    if (phase === 'install') record.token = newToken();
    else record.targetToken = newToken();
    record.spentTokens = [...(record.spentTokens ?? []), { sha256: sha256(presented), state: to }].slice(-keptSpent);
    return 'fresh';
  }
  const digest = sha256(presented);
  const spent = (record.spentTokens ?? []).find((s) => sameSecret(s.sha256, digest));
  return spent && spent.state === to && record.state === to ? 'repeat' : 'refused';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Constant-time comparison, so a token cannot be guessed one character at a time. */
function sameSecret(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
