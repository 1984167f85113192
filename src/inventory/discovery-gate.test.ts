import { describe, expect, it } from 'vitest';
import { DiscoveryGate, RefusalWarnings } from './discovery-gate.js';

describe('DiscoveryGate', () => {
  it('lets a source record its burst, then one more per 60/perMinute seconds; other sources are not affected', () => {
    const gate = new DiscoveryGate({ maxDiscovered: 1000, perSourcePerMinute: 6 });
    const admitted = (origin: string, at: number) => gate.admit(origin, 0, at) === null;
    expect(Array.from({ length: 10 }, () => admitted('10.0.0.5', 0)).filter(Boolean)).toHaveLength(6);
    expect(gate.admit('10.0.0.5', 0, 0)?.message).toContain('more than 6 new machines a minute from 10.0.0.5');
    expect(admitted('10.0.0.6', 0)).toBe(true);
    expect(admitted('10.0.0.5', 9_999)).toBe(false);
    expect(admitted('10.0.0.5', 10_000)).toBe(true); // 6 a minute: one token per 10 s
    expect(admitted('10.0.0.5', 10_001)).toBe(false);
  });

  it('refuses every source at the cap, whatever its tokens', () => {
    const gate = new DiscoveryGate({ maxDiscovered: 3, perSourcePerMinute: 100 });
    expect(gate.admit('a', 2, 0)).toBeNull();
    expect(gate.admit('b', 3, 0)).toMatchObject({ reason: 'cap' });
    expect(gate.admit('b', 3, 0)?.message).toContain('3 undeclared machines (machines.maxDiscovered)');
  });
});

describe('RefusalWarnings', () => {
  it('warns once per reason a minute, counting the refusals since the last warning', () => {
    const warnings = new RefusalWarnings();
    expect(warnings.count('rate', 0)).toBe(1);
    for (let i = 1; i <= 5; i++) expect(warnings.count('rate', i * 1000)).toBeNull();
    expect(warnings.count('cap', 6000)).toBe(1);
    expect(warnings.count('rate', 60_000)).toBe(6);
    expect(warnings.count('rate', 60_001)).toBeNull();
  });
});
