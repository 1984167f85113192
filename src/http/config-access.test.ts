import { describe, expect, it } from 'vitest';
import type { Machine } from '../inventory/inventory.js';
import { ConfigAccess } from './config-access.js';

const machine = (over: Partial<Machine> = {}): Machine =>
  ({
    mac: '52:54:00:00:00:01',
    state: 'installing',
    stateSince: '2026-01-01T00:00:00.000Z',
    reservedIp: null,
    facts: { arch: null, platform: null, uuid: null, lastIp: '10.0.0.9' },
    ...over,
  }) as Machine;

describe('config access', () => {
  it.each([
    ['proxy mode: the /ipxe address', null, null, '10.0.0.9', true],
    ['proxy mode: another address', null, null, '10.0.0.8', false],
    ['full mode: the leased address', '10.0.0.20', null, '10.0.0.20', true],
    ['full mode: the /ipxe address does not count once a lease exists', '10.0.0.20', null, '10.0.0.9', false],
    ['the reservation', null, '10.0.0.30', '10.0.0.30', true],
  ])('%s', (_name, leased, reservedIp, source, ok) => {
    const access = new ConfigAccess({ leasedAddress: () => leased });
    expect(access.check(machine({ reservedIp }), source, false).ok).toBe(ok);
  });

  it('lets the box itself read any config, and names the bound addresses when it refuses', () => {
    const access = new ConfigAccess({ leasedAddress: () => null });
    expect(
      access.check(machine({ facts: { arch: null, platform: null, uuid: null, lastIp: null } }), '10.0.0.1', true),
    ).toEqual({ ok: true });
    const refused = access.check(machine(), '10.0.0.66', false);
    expect(refused).toMatchObject({ ok: false, code: 'CONFIG_ADDRESS' });
    expect(!refused.ok && refused.reason).toContain('at 10.0.0.9; this request came from 10.0.0.66');
  });

  it('allows 30 fetches a minute per source, then 429 until the minute is over', () => {
    let now = 0;
    const access = new ConfigAccess({ leasedAddress: () => null, clock: () => now });
    const results = Array.from({ length: 31 }, () => access.check(machine(), '10.0.0.9', false));
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    expect(results[30]).toMatchObject({ ok: false, code: 'CONFIG_RATE_LIMITED', retryAfterSeconds: 60 });
    // another source has its own budget
    expect(access.check(machine(), '10.0.0.10', false)).toMatchObject({ ok: false, code: 'CONFIG_ADDRESS' });
    now = 60_000;
    expect(access.check(machine(), '10.0.0.9', false).ok).toBe(true);
  });

  it('notes the first fetch of each kind per machine state, not every repeat', () => {
    const access = new ConfigAccess({ leasedAddress: () => null });
    const m = machine();
    expect([1, 2, 3].map(() => access.firstOfItsKind(m, 'install ignition'))).toEqual([true, false, false]);
    expect(
      access.firstOfItsKind(
        machine({ state: 'installed', stateSince: '2026-01-01T00:10:00.000Z' }),
        'install ignition',
      ),
    ).toBe(true);
  });
});
