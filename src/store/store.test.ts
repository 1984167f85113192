import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog, JsonDocument, readJsonFile, writeFileAtomic } from './index.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'kindling-store-'));

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, '{"v":1}');
    await writeFileAtomic(file, '{"v":2}', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"v":2}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('JsonDocument', () => {
  it('coalesces many updates into few writes and resolves once durable', async () => {
    const dir = tmp();
    const file = path.join(dir, 'doc.json');
    const doc = await JsonDocument.open({ file, coalesceMs: 20 }, { n: 0 });
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 100; i++) {
      doc.data.n = i;
      writes.push(doc.touch());
    }
    await Promise.all(writes);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ n: 100 });
    const reopened = await JsonDocument.open({ file }, { n: -1 });
    expect(reopened.data.n).toBe(100);
  });

  it('names the file when a document is corrupt', async () => {
    const dir = tmp();
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{"half": ');
    await expect(readJsonFile(file, {})).rejects.toThrow(`${file}: state document does not parse as JSON`);
  });
});

describe('EventLog', () => {
  it('appends, rotates at its cap and skips a torn last line', async () => {
    const dir = tmp();
    const file = path.join(dir, 'events.jsonl');
    const log = new EventLog<{ i: number }>({ file, maxBytes: 500 });
    for (let i = 0; i < 300; i++) {
      log.append({ i });
      if (i % 10 === 9) await log.flush();
    }
    writeFileSync(file, readFileSync(file, 'utf8') + '{"i": 3', { flag: 'w' });
    const all = await log.readAll();
    expect(all.at(-1)).toEqual({ i: 299 });
    expect(all.length).toBeLessThan(300); // older generations were dropped by the cap
    expect(statSync(file).size).toBeLessThan(600);
  });
});
