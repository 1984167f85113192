import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './errors.js';

// docs/errors.md and the table in errors.ts say the same, both ways: a person reading
// the docs meets no code the server does not send, and no sent code is missing there.
describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (\d+) \| (.*) \|$/gm)].map((m) => ({
    code: m[1]!,
    status: Number(m[2]),
    summary: m[3]!,
  }));

  it.each(Object.entries(errorCodes))('%s is in docs/errors.md with its status', (code, { status }) => {
    expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it('documents no code the table lacks, each once, with the table status and meaning', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const entry = (errorCodes as Record<string, { status: number; summary: string }>)[row.code];
      expect(entry, `docs/errors.md lists ${row.code}, which src/errors.ts does not have`).toBeDefined();
      expect({ code: row.code, status: row.status, summary: row.summary }).toEqual({
        code: row.code,
        status: entry!.status,
        summary: entry!.summary,
      });
    }
    expect(rows.map((r) => r.code)).toEqual(Object.keys(errorCodes));
  });

  it('counts every table-like line, so a malformed row cannot slip past the check', () => {
    const tableLines = doc.split('\n').filter((l) => l.startsWith('| `'));
    expect(tableLines.length).toBe(rows.length);
  });
});
