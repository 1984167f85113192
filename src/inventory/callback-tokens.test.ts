import { describe, expect, it } from 'vitest';
import { redeemToken, rotateTokens, tokenFor, type TokenFields } from './callback-tokens.js';
import type { MachineState } from './lifecycle.js';

type Record = TokenFields & { state: MachineState };
const fresh = (state: MachineState = 'installing'): Record => ({
  state,
  token: 'install-token',
  targetToken: 'target-token',
});

describe('callback tokens', () => {
  it.each([
    ['installed', 'install-token', 'fresh'],
    ['installed', 'target-token', 'refused'],
    ['running', 'target-token', 'fresh'],
    ['running', 'install-token', 'refused'],
    ['failed', 'install-token', 'fresh'],
    ['failed', 'target-token', 'fresh'],
    ['installed', '', 'refused'],
    ['installed', 'install-toke', 'refused'],
    ['installed', 'install-tokenX', 'refused'],
  ] as const)('%s with %j is %s', (to, presented, outcome) => {
    expect(redeemToken(fresh(), presented, to)).toBe(outcome);
  });

  it('spends a token: the phase gets a new one, and the old one only repeats what it reported', () => {
    const record = fresh();
    expect(redeemToken(record, 'install-token', 'installed')).toBe('fresh');
    expect(tokenFor(record, 'install')).not.toBe('install-token');
    expect(tokenFor(record, 'target')).toBe('target-token');
    record.state = 'installed';
    expect(redeemToken(record, 'install-token', 'installed')).toBe('repeat');
    expect(redeemToken(record, 'install-token', 'failed')).toBe('refused');
    record.state = 'running';
    expect(redeemToken(record, 'install-token', 'installed')).toBe('refused'); // the state moved on
  });

  it('keeps a few spent tokens, never the tokens themselves', () => {
    const record = fresh('running');
    for (let i = 0; i < 10; i++) expect(redeemToken(record, tokenFor(record, 'target'), 'running')).toBe('fresh');
    expect(record.spentTokens).toHaveLength(4);
    expect(JSON.stringify(record.spentTokens)).not.toContain('target-token');
  });

  it('gives a record from before phases a target token, and rotation replaces both', () => {
    const old: Record = { state: 'installed', token: 'install-token' };
    const target = tokenFor(old, 'target');
    expect(target).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(tokenFor(old, 'target')).toBe(target);
    rotateTokens(old);
    expect([old.token, old.targetToken]).not.toContain('install-token');
    expect(old.targetToken).not.toBe(target);
  });
});
