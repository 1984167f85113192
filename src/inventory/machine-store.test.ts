import { appendFileSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MachineRecord } from './machine-record.js';
import { MachineStore } from './machine-store.js';

const record = (mac: string, over: Partial<MachineRecord> = {}): MachineRecord => ({
  mac,
  state: 'discovered',
  stateSince: '2026-01-01T00:00:00.000Z',
  firstSeen: null,
  lastSeen: null,
  token: `token-${mac}`,
  autoName: null,
  autoProfile: null,
  facts: { arch: null, platform: null, uuid: null, lastIp: null },
  installs: 0,
  lastError: null,
  ...over,
});

const stateDir = () => mkdtempSync(path.join(tmpdir(), 'kindling-machines-'));

describe('MachineStore', () => {
  it('migrates machines.json (the whole-document format) into the journal and removes it', async () => {
    const dir = stateDir();
    const old = {
      version: 1,
      nextNumber: 7,
      machines: {
        '52:54:00:00:00:01': record('52:54:00:00:00:01', { state: 'installed', installs: 2 }),
        '52:54:00:00:00:02': record('52:54:00:00:00:02'),
      },
    };
    writeFileSync(path.join(dir, 'machines.json'), JSON.stringify(old, null, 1));
    const store = await MachineStore.open(dir);
    expect(store.nextNumber).toBe(7);
    expect(store.records.get('52:54:00:00:00:01')).toEqual(old.machines['52:54:00:00:00:01']);
    expect(store.records.size).toBe(2);
    expect(existsSync(path.join(dir, 'machines.json'))).toBe(false);
    expect(statSync(path.join(dir, 'machines.jsonl')).mode & 0o777).toBe(0o600);
    await store.save(record('52:54:00:00:00:03'));
    await store.close();
    const again = await MachineStore.open(dir);
    expect([...again.records.keys()].sort()).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:03']);
    await again.close();
  });

  it(
    'a crash after the migration wrote the journal but before it ' + 'removed machines.json keeps the journal',
    async () => {
      const dir = stateDir();
      writeFileSync(
        path.join(dir, 'machines.jsonl'),
        `${JSON.stringify({ t: 'machine', r: record('52:54:00:00:00:0a') })}\n`,
      );
      writeFileSync(path.join(dir, 'machines.json'), JSON.stringify({ version: 1, nextNumber: 1, machines: {} }));
      const store = await MachineStore.open(dir);
      expect([...store.records.keys()]).toEqual(['52:54:00:00:00:0a']);
      expect(existsSync(path.join(dir, 'machines.json'))).toBe(false);
      await store.close();
    },
  );

  it('replays saves, forgets and the name counter, and survives a torn last line', async () => {
    const dir = stateDir();
    const store = await MachineStore.open(dir);
    await store.save(record('52:54:00:00:00:01'));
    await store.save(record('52:54:00:00:00:02'));
    await store.save(record('52:54:00:00:00:01', { state: 'assigned' }));
    await store.remove('52:54:00:00:00:02');
    store.nextNumber = 5;
    await store.saveCounter();
    await store.close();
    appendFileSync(path.join(dir, 'machines.jsonl'), '{"t":"machine","r":{"mac":"52:54:00:00:00:09","sta');
    const again = await MachineStore.open(dir);
    expect([...again.records.keys()]).toEqual(['52:54:00:00:00:01']);
    expect(again.records.get('52:54:00:00:00:01')?.state).toBe('assigned');
    expect(again.nextNumber).toBe(5);
    await again.save(record('52:54:00:00:00:03'));
    await again.close();
    const third = await MachineStore.open(dir);
    expect([...third.records.keys()].sort()).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:03']);
    await third.close();
  });
});
