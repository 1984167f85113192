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
