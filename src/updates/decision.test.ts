import { describe, expect, it } from 'vitest';
import { decide, defaultGroupPolicy, slotTimeoutMs, type DecideInput, type UpdateRecord } from './decision.js';
import type { OmahaAppRequest, OmahaPackage } from './omaha.js';

const now = new Date('2026-12-07T10:00:00Z');
const target: OmahaPackage = {
  version: '3815.2.1',
  codebase: 'http://k/mirror/flatcar/stable/amd64-usr/3815.2.1/',
  name: 'flatcar_production_update.gz',
  size: 10,
  sha256: 'ab'.repeat(32),
};
const app = (over: Partial<OmahaAppRequest> = {}): OmahaAppRequest => ({
  appId: '{e96281a6-d1af-4bde-9a0a-97b76e56dc57}',
  version: '3815.2.0',
  track: 'stable',
  machineId: 'm1',
  bootId: '',
  machineAlias: '',
  oem: '',
  board: 'amd64-usr',
  alephVersion: '',
  ping: true,
  updateCheck: true,
  events: [],
  ...over,
});
const record = (over: Partial<UpdateRecord>): UpdateRecord => ({
  machineId: 'm1',
  group: 'stable',
  version: '3815.2.0',
  state: 'offered',
  reason: null,
  offered: '3815.2.1',
  offeredAt: now.toISOString(),
  errorCode: null,
  ip: '10.0.0.5',
  mac: null,
  sentKey: false,
  alias: '',
  lastSeen: new Date(now.getTime() - 60_000).toISOString(),
  ...over,
});
const input = (over: Partial<DecideInput>): DecideInput => ({
  app: app(),
  ip: '10.0.0.5',
  node: { sentKey: false, mac: null },
  group: 'stable',
  previous: undefined,
  policy: defaultGroupPolicy,
  target,
  slotsInUse: 0,
  now,
  ...over,
});
const ev = (type: number, result: number, errorCode: number | null = null) => ({
  type,
  result,
  errorCode,
  previousVersion: null,
});

describe('update decision', () => {
  const cases: Array<[string, Partial<DecideInput>, string, string]> = [
    ['an older node is offered the target', {}, 'ok', 'offered'],
    ['a node at the target is told noupdate', { app: app({ version: '3815.2.1' }) }, 'noupdate', 'up-to-date'],
    [
      'a node past the target (pinned lower) is told noupdate',
      { app: app({ version: '3900.0.0' }) },
      'noupdate',
      'up-to-date',
    ],
    ['nothing on the mirror: noupdate, held', { target: null }, 'noupdate', 'held'],
    ['paused group: noupdate, held', { policy: { ...defaultGroupPolicy, paused: true } }, 'noupdate', 'held'],
    [
      'rollout limit reached: noupdate, held',
      { policy: { ...defaultGroupPolicy, rolloutLimit: 2 }, slotsInUse: 2 },
      'noupdate',
      'held',
    ],
    [
      'rollout limit with a free slot: offered',
      { policy: { ...defaultGroupPolicy, rolloutLimit: 2 }, slotsInUse: 1 },
      'ok',
      'offered',
    ],
    [
      'a slot holder asking again is offered again even at the limit',
      { previous: record({ state: 'downloading' }), policy: { ...defaultGroupPolicy, rolloutLimit: 1 }, slotsInUse: 1 },
      'ok',
      'downloading',
    ],
    [
      'installed, awaiting reboot: noupdate, keeps its state',
      { previous: record({ state: 'installed' }) },
      'noupdate',
      'installed',
    ],
    ['after an error it may try again', { previous: record({ state: 'error' }) }, 'ok', 'offered'],
  ];
  it.each(cases)('%s', (_name, over, status, state) => {
    const d = decide(input(over));
    expect(d.updateCheck?.status).toBe(status);
    expect(d.record.state).toBe(state);
  });

  it('walks the events update_engine sends through the states', () => {
    let previous = decide(input({})).record;
    const step = (events: OmahaAppRequest['events'], over: Partial<OmahaAppRequest> = {}) => {
      previous = decide(input({ app: app({ updateCheck: false, ping: false, events, ...over }), previous })).record;
      return previous.state;
    };
    expect(step([ev(13, 1)])).toBe('downloading');
    expect(step([ev(14, 1)])).toBe('downloaded');
    expect(step([ev(3, 1)])).toBe('installed');
    const after = decide(input({ app: app({ version: '3815.2.1', events: [ev(3, 2)] }), previous }));
    expect(after.record).toMatchObject({ state: 'updated', version: '3815.2.1' });
    expect(after.updateCheck?.status).toBe('noupdate');
  });

  it('an error event records the code and frees the slot', () => {
    const d = decide(
      input({ app: app({ updateCheck: false, events: [ev(3, 0, 2000)] }), previous: record({ state: 'downloading' }) }),
    );
    expect(d.record).toMatchObject({ state: 'error', errorCode: 2000 });
    expect(d.record.reason).toContain('2000');
  });

  it('a reboot still on the old version is a rollback, an error', () => {
    const d = decide(
      input({
        app: app({ events: [ev(3, 2)] }),
        previous: record({ state: 'installed' }),
        policy: { ...defaultGroupPolicy, paused: true },
      }),
    );
    expect(d.record.state).toBe('error');
    expect(d.record.reason).toContain('rebooted still running 3815.2.0');
  });

  it('a silent slot holder lapses after the timeout and counts as failed', () => {
    const stale = record({ state: 'downloading', lastSeen: new Date(now.getTime() - slotTimeoutMs - 1).toISOString() });
    const d = decide(input({ app: app({ updateCheck: false }), previous: stale }));
    expect(d.record.state).toBe('error');
  });

  it('events from a machine that was never offered do not invent an update', () => {
    const d = decide(input({ app: app({ updateCheck: false, events: [ev(13, 1), ev(3, 2)] }) }));
    expect(d.record.state).toBe('up-to-date');
  });
});

describe('the machine an update key names', () => {
  it('is what each request says: a key from before a reinstall stops naming the machine at once', () => {
    const named = decide(input({ node: { sentKey: true, mac: '52:54:00:aa:bb:cc' } })).record;
    expect(named).toMatchObject({ mac: '52:54:00:aa:bb:cc', sentKey: true });
    const rotated = decide(input({ previous: named, node: { sentKey: true, mac: null } })).record;
    expect(rotated).toMatchObject({ mac: null, sentKey: true });
    const keyless = decide(input({ previous: named, node: { sentKey: false, mac: null } })).record;
    expect(keyless).toMatchObject({ mac: null, sentKey: false });
  });
});
