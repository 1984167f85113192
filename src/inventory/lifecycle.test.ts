import { describe, expect, it } from 'vitest';
import { canTransition, enterState, machineStates, profileDrivenMove, type LifecycleFields } from './lifecycle.js';

const fields = (state: LifecycleFields['state'], lastError: string | null = null): LifecycleFields => ({
  state,
  stateSince: 't0',
  installs: 2,
  lastError,
});

describe('lifecycle rules', () => {
  it('counts an install once however often the machine boots it again', () => {
    const record = fields('assigned');
    enterState(record, 'installing', 'install boot', 't1');
    enterState(record, 'installing', 'install boot again', 't2');
    expect(record).toEqual({ state: 'installing', stateSince: 't2', installs: 3, lastError: null });
  });

  it('keeps a failure message until the machine installs or runs', () => {
    const record = fields('installing');
    enterState(record, 'failed', 'disk /dev/sda not found', 't1');
    expect(record.lastError).toBe('disk /dev/sda not found');
    enterState(record, 'reinstall-requested', 'reinstall requested', 't2');
    expect(record.lastError).toBe('disk /dev/sda not found');
    enterState(record, 'installing', 'install boot', 't3');
    enterState(record, 'installed', 'installed', 't4');
    expect(record.lastError).toBeNull();
  });

  for (const state of machineStates) {
    it(`${state}: the profile in machines.yaml moves it only as the transition table allows`, () => {
      for (const profile of ['p', null]) {
        const move = profileDrivenMove(state, profile);
        const want = state === 'discovered' ? (profile ? 'assigned' : null) : profile ? null : 'discovered';
        expect(move?.to ?? null).toBe(want);
        if (move) expect(canTransition(state, move.to)).toBe(true);
      }
    });
  }
});
