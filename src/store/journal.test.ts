import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, parseJournal } from './journal.js';

type Rec = { k: string; v: number };
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && typeof (v as Rec).k === 'string';
const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'kindling-journal-')), 'state', 'j.jsonl');

/** A journal over a key/value map, as the inventory uses it: each record replaces its key. */
async function openMap(f: string, slack = 10) {
  const live = new Map<string, number>();
  const opened = await Journal.open<Rec>({
    file: f,
    snapshot: () => [...live].map(([k, v]) => ({ k, v })),
    accept: isRec,
    slack: () => slack,
  });
  for (const r of opened.records) live.set(r.k, r.v);
  const put = (k: string, v: number) => {
    live.set(k, v);
    return opened.journal.append({ k, v });
  };
  return { live, put, journal: opened.journal };
}

describe('Journal', () => {
  it('keeps every record before a torn last line, and the next append starts a fresh line', async () => {
    const f = file();
    const a = await openMap(f);
    await Promise.all([a.put('a', 1), a.put('b', 2)]);
    await a.journal.close();
    writeFileSync(f, readFileSync(f, 'utf8') + '{"k":"c","v"'); // a crash mid-append
    const b = await openMap(f);
    expect([...b.live]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    await b.put('d', 4);
    await b.journal.close();
    const c = await openMap(f);
    expect([...c.live]).toEqual([
      ['a', 1],
      ['b', 2],
      ['d', 4],
    ]);
    await c.journal.close();
  });

  it('compacts to the live state once the file holds `slack` lines more, and loses nothing', async () => {
    const f = file();
    const a = await openMap(f, 10);
    for (let i = 0; i < 60; i++) await a.put(`k${i % 3}`, i);
    expect(a.journal.stats.compactions).toBeGreaterThanOrEqual(4);
    await a.journal.close();
    expect(parseJournal(readFileSync(f, 'utf8'), isRec).lines).toBeLessThanOrEqual(13);
    const b = await openMap(f);
    expect(Object.fromEntries(b.live)).toEqual({ k0: 57, k1: 58, k2: 59 });
    await b.journal.close();
  });

  it('group-commits concurrent appends and writes owner-only files, tightening an old 0644 one', async () => {
    const f = file();
    const a = await openMap(f, 1e6);
    await Promise.all(Array.from({ length: 300 }, (_, i) => a.put(`k${i}`, i)));
    expect(a.journal.stats.syncs).toBeLessThan(10);
    expect(a.journal.stats.bytes).toBe(readFileSync(f).length);
    await a.journal.close();
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(f)).mode & 0o777).toBe(0o700);
    chmodSync(f, 0o644);
    const b = await openMap(f);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(b.live.size).toBe(300);
    await b.journal.close();
  });

  it('skips lines that are not records (another writer, hand edits) and keeps the rest', () => {
    const text = '{"k":"a","v":1}\n[1,2]\nnull\n\n{"k":"b","v":2}\n';
    expect(parseJournal(text, isRec)).toEqual({
      records: [
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
      ],
      lines: 4,
    });
  });
});
