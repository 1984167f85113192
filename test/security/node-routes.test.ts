import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { rawRequest } from './support/raw-http.js';

// The routes any node (or attacker) on the LAN reaches without credentials.

let k: TestKindling;
beforeAll(async () => {
  k = await startTestKindling({
    files: { 'machines.yaml': '- { mac: "52:54:00:0b:0b:01", name: n1, profile: flatcar-install }\n' },
  });
});
afterAll(async () => k?.stop());

describe('node routes', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'POST /callback/%s is an unknown callback (400), never a 500',
    async (event) => {
      const res = await rawRequest(k.httpUrl, 'POST', `/callback/${event}?mac=52:54:00:0b:0b:01&token=x`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'REQUEST_INVALID' } });
      expect(k.inventory.get('52:54:00:0b:0b:01')?.state).toBe('assigned');
    },
  );
});

describe('boot files over HTTP', () => {
  let root: string;
  let kk: TestKindling;
  beforeAll(async () => {
    root = path.join(k.dataDir, 'tftp-root');
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'ipxe.efi'), Buffer.alloc(12345, 7));
    kk = await startTestKindling({ config: { tftp: { enabled: false, roots: [root] } } });
  });
  afterAll(async () => kk?.stop());

  it('/ipxe.efi carries Content-Length, as UEFI HTTP boot clients expect', async () => {
    const res = await rawRequest(kk.httpUrl, 'GET', '/ipxe.efi');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('12345');
    expect(res.headers['transfer-encoding']).toBeUndefined();
  });
});
