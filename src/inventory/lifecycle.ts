import { KindlingError } from '../errors.js';

// The lifecycle of a machine (docs/how-a-node-boots.md):
// discovered -> assigned -> installing -> installed -> running, plus failed and
// reinstall-requested. Live machines go assigned -> running on each boot.

export const machineStates = [
  'discovered',
  'assigned',
  'installing',
  'installed',
  'running',
  'failed',
  'reinstall-requested',
] as const;
export type MachineState = (typeof machineStates)[number];

const allowed: Record<MachineState, readonly MachineState[]> = {
  discovered: ['assigned'],
  assigned: ['installing', 'running', 'discovered', 'failed'],
  installing: ['installed', 'failed', 'installing', 'reinstall-requested', 'discovered', 'assigned'],
  installed: ['running', 'reinstall-requested', 'discovered', 'assigned', 'failed'],
  running: ['reinstall-requested', 'discovered', 'assigned', 'installed', 'failed', 'running'],
  failed: ['reinstall-requested', 'assigned', 'discovered', 'installing'],
  'reinstall-requested': ['installing', 'discovered', 'assigned', 'failed'],
};

export function canTransition(from: MachineState, to: MachineState): boolean {
  return allowed[from].includes(to);
}

export function assertTransition(mac: string, from: MachineState, to: MachineState): void {
  if (!canTransition(from, to)) {
    throw new KindlingError(
      'TRANSITION_INVALID',
      `machine ${mac} is ${from}; it cannot become ${to} (from ${from} it can become: ${allowed[from].join(', ')})`,
      { mac, from, to },
    );
  }
}

/** The fields of a machine record the lifecycle rules change. */
export interface LifecycleFields {
  state: MachineState;
  stateSince: string;
  installs: number;
  lastError: string | null;
}

/**
 * Applies a checked transition to a record: an install counts once however often the
 * machine boots it again, a failure keeps its message, reaching the disk or running clears it.
 */
export function enterState(record: LifecycleFields, to: MachineState, message: string, now: string): void {
  const from = record.state;
  record.state = to;
  record.stateSince = now;
  if (to === 'installing' && from !== 'installing') record.installs += 1;
  if (to === 'failed') record.lastError = message;
  if (to === 'installed' || to === 'running') record.lastError = null;
}

/**
 * The move machines.yaml's profile implies, if any: a discovered machine with a profile
 * is assigned; a machine whose profile was removed waits again as discovered.
 * Both moves are allowed by the table above from every state they start from.
 */
export function profileDrivenMove(
  state: MachineState,
  profile: string | null,
): { to: MachineState; message: string } | null {
  if (state === 'discovered' && profile) return { to: 'assigned', message: `profile ${profile} assigned` };
  if (state !== 'discovered' && !profile) return { to: 'discovered', message: 'profile removed; waiting for one' };
  return null;
}
