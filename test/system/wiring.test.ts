import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// The services main.ts wires, seen from outside: /healthz tells what runs and what
// could not start, and the TFTP root really serves.

let k: TestKindling | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

interface Health {
  status: string;
  services: Array<{ name: string; state: string; detail: string; listen?: string }>;
}

describe('service wiring', () => {
  it('serves the TFTP root and reports TFTP on /healthz', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'kindling-root-'));
    const payload = Buffer.alloc(100_000, 7);
    writeFileSync(path.join(root, 'undionly.kpxe'), payload);
    k = await startTestKindling({ config: { tftp: { enabled: true, listen: '127.0.0.1', port: 0, roots: [root] } } });
    const health = (await (await k.get('/healthz')).json()) as Health;
    const tftp = health.services.find((s) => s.name === 'tftp');
    expect(tftp).toMatchObject({ state: 'running' });
    const port = Number(tftp!.listen!.split(':')[1]);
    const out = path.join(root, 'fetched');
    // Async: the server runs in this process, so a blocking call would starve it.
    await promisify(execFile)('curl', ['-sS', '--max-time', '20', '-o', out, `tftp://127.0.0.1:${port}/undionly.kpxe`]);
    expect(readFileSync(out).equals(payload)).toBe(true);
  });

  it('keeps serving HTTP and says why when DHCP cannot start', async () => {
    k = await startTestKindling({
      config: { dhcp: { mode: 'full', interface: 'kindling-none0' }, server: { interface: 'kindling-none0' } },
    });
    const res = await k.get('/healthz');
    expect(res.status).toBe(503);
    const health = (await res.json()) as Health;
    expect(health.status).toBe('failed');
    expect(health.services.find((s) => s.name === 'dhcp')).toMatchObject({
      state: 'failed',
      detail: expect.stringContaining('interface kindling-none0 has no IPv4 address'),
    });
    expect((await k.get('/boot.ipxe')).status).toBe(200);
  });
});

describe('iPXE binaries over HTTP for UEFI HTTP boot', () => {
  it('serves ipxe.efi from the TFTP roots, and only boot file names', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'kindling-root-'));
    writeFileSync(path.join(root, 'ipxe.efi'), 'MZ-fake-efi');
    k = await startTestKindling({ config: { tftp: { enabled: false, roots: [root] } } });
    const res = await k.get('/ipxe.efi');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('MZ-fake-efi');
    expect((await k.get('/snponly.efi')).status).toBe(404);
    expect((await k.get('/..%2fetc%2fpasswd')).status).toBe(404);
  });
});
