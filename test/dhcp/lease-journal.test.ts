import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseJournal, type JournalRecord } from '../../src/dhcp/lease-journal.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { makePool } from '../../src/net/ipv4.js';

const dirs: string[] = [];
async function tempFile(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kindling-journal-'));
  dirs.push(dir);
  return path.join(dir, 'state', 'dhcp-leases.jsonl');
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

const bind = (i: number): JournalRecord => ({
  t: 'bind',
  mac: `52:54:00:00:00:${(i % 256).toString(16).padStart(2, '0')}`,
  ip: `10.77.0.${100 + (i % 100)}`,
  exp: 1e12,
});

describe('lease journal', () => {
  it('group-commits: many appends share few syncs, and all are durable when their promises resolve', async () => {
    const file = await tempFile();
    const { journal } = await LeaseJournal.open(file, () => []);
    await Promise.all(Array.from({ length: 500 }, (_, i) => journal.append(bind(i))));
    expect(journal.stats.records).toBe(500);
    expect(journal.stats.syncs).toBeLessThan(10);
    await journal.close();
    const again = await LeaseJournal.open(file, () => []);
    expect(again.records).toHaveLength(500);
    await again.journal.close();
  });

  it('skips a torn last line after a crash and appends after it cleanly', async () => {
    const file = await tempFile();
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(bind(1)) + '\n{"t":"bind","mac":"52:5');
    const { journal, records } = await LeaseJournal.open(file, () => []);
    expect(records).toEqual([bind(1)]);
    await journal.append(bind(2));
    await journal.close();
    expect((await LeaseJournal.open(file, () => [])).records).toEqual([bind(1), bind(2)]);
  });

  it('compacts to the live table when it grows far past it', async () => {
    const file = await tempFile();
    const { journal } = await LeaseJournal.open(file, () => [bind(0)]);
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 500 }, (_, i) => journal.append(bind(i))));
    expect(journal.stats.compactions).toBe(1);
    await journal.close();
    const { records } = await LeaseJournal.open(file, () => []);
    expect(records.length).toBeLessThan(2500);
  });

  it('replays into a table that gives every MAC its address back', async () => {
    const pool = makePool({
      range: { start: '10.77.0.100', end: '10.77.0.199' },
      subnetMask: '255.255.255.0',
      serverIp: '10.77.0.2',
    });
    const opts = {
      pool,
      serverIp: '10.77.0.2',
      offerMs: 1000,
      maxOffers: 10,
      declineMs: 1000,
      reservationFor: () => null,
      reservationOwner: () => null,
    };
    const a = new LeaseTable(opts);
    const records = [
      a.bind('52:54:00:00:00:01', 0x0a4d0064 + 5, 0, 1e9, null),
      a.bind('52:54:00:00:00:02', 0x0a4d0064, 0, 1e9, 'b'),
    ];
    const b = new LeaseTable(opts);
    b.replay(records);
    expect(b.offer('52:54:00:00:00:01', null, 10)).toBe(0x0a4d0064 + 5);
    expect(b.offer('52:54:00:00:00:03', '10.77.0.100', 10)).toBe(0x0a4d0065);
    expect(b.snapshot()).toHaveLength(2);
  });
});
