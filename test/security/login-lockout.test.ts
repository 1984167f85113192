import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { rawRequest } from './support/raw-http.js';

// Guessing the admin password from the rack LAN: each address is slowed on its own,
// and a flood of wrong passwords from many addresses must not lock the admin out.

const password = 'the-real-admin-password';
let k: TestKindling;
const login = (from: string, pw: string) =>
  rawRequest(k.httpUrl, 'POST', '/api/login', { localAddress: from, body: JSON.stringify({ password: pw }) });

beforeAll(async () => {
  k = await startTestKindling();
  expect(
    (
      await rawRequest(k.httpUrl, 'POST', '/api/setup/password', {
        localAddress: '127.0.0.2',
        body: JSON.stringify({ password }),
      })
    ).status,
  ).toBe(200);
});
afterAll(async () => k?.stop());

describe('login back-off', () => {
  it('locks out a guessing address after 5 tries while another address logs in', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login('127.0.0.9', `guess-${i}-guess`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const locked = await login('127.0.0.9', password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login('127.0.0.3', password)).status).toBe(200);
  });

  it(
    "70 wrong passwords from 70 addresses trip the global limit, and the admin's address still gets in",
    { timeout: 120_000 },
    async () => {
      // Concurrency 8 keeps scrypt's memory bounded on a small machine.
      const addresses = Array.from({ length: 70 }, (_, i) => `127.0.1.${i + 1}`);
      for (let i = 0; i < addresses.length; i += 8)
        await Promise.all(addresses.slice(i, i + 8).map((a) => login(a, 'wrong-password')));
      // A fresh address is now refused without its password even being hashed...
      expect((await login('127.0.2.1', password)).status).toBe(429);
      // ...but addresses that logged in before are not locked out by someone else's flood.
      expect((await login('127.0.0.2', password)).status).toBe(200);
      expect((await login('127.0.0.3', password)).status).toBe(200);
    },
  );
});
