import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemps } from '../../src/store/index.js';

// Kill -9 a writer at random moments, again and again; every document must always
// parse as a whole document, old or new, never torn.
const dir = mkdtempSync(path.join(tmpdir(), 'kindling-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runAndKill(afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/fixtures/write-loop.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), afterMs));
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

describe('atomic documents under kill -9', () => {
  it('leaves every document whole after 25 kills at random moments', async () => {
    let seen = 0;
    for (let i = 0; i < 25; i++) {
      await runAndKill(20 + Math.floor(Math.random() * 150));
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
        const doc = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { seq: number; filler: string };
        expect(doc.filler).toHaveLength(64 * 1024);
        expect(doc.seq).toBeGreaterThanOrEqual(0);
        seen += 1;
      }
    }
    expect(seen).toBeGreaterThan(25); // the writer really wrote between kills
    // Temp files a kill left behind are only ever leftovers, and start-up removes them.
    await removeStaleTemps(dir);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
