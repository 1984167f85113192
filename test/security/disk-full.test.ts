import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// The audit: a failed event-log write was an unhandled rejection that ended the
// process. On a full SD card Kindling must keep answering and say what is wrong.

const mountPoint = mkdtempSync(path.join(tmpdir(), 'kindling-full-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  mounted = true;
} catch {
  // not root, or no mount namespace: the test says so below
}
let k: TestKindling | undefined;
afterAll(async () => {
  await k?.close().catch(() => undefined);
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)('a full disk (tmpfs of 4 MiB)', () => {
  it('keeps serving, reports storage on /healthz, and writes the kept events once space is back', async () => {
    const dataDir = path.join(mountPoint, 'data');
    k = await startTestKindling({ dataDir });
    const filler = path.join(mountPoint, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k', 'count=100'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the disk is full, which is the point
    }
    for (let i = 0; i < 20; i++) await k.get(`/ipxe?mac=52:54:00:dd:00:${i.toString(16).padStart(2, '0')}`);
    await new Promise((r) => setTimeout(r, 300));
    const health = (await (await k.get('/healthz')).json()) as {
      status: string;
      services: Array<{ name: string; state: string; detail: string }>;
    };
    expect(health.status).toBe('degraded');
    expect(health.services.find((s) => s.name === 'storage')).toMatchObject({ state: 'degraded' });
    expect(health.services.find((s) => s.name === 'storage')?.detail).toMatch(/ENOSPC|no space/i);
    // Still alive and answering boots.
    expect((await k.get('/boot.ipxe')).status).toBe(200);

    rmSync(filler);
    await k.inventory.flush();
    const log = readFileSync(path.join(dataDir, 'state', 'events.jsonl'), 'utf8');
    expect(log).toContain('52:54:00:dd:00:13');
    const after = (await (await k.get('/healthz')).json()) as { services: Array<{ name: string }> };
    expect(after.services.map((s) => s.name)).not.toContain('storage');
  });
});
