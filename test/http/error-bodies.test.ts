import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/errors.js';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';

// Every error answer, whichever layer sends it (a route, fastify's body parser or
// router, the mirror's file routes, the not-found handler), carries a code from
// src/errors.ts with exactly the status docs/errors.md gives it.

let k: TestKindling;
beforeAll(async () => {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
});
afterAll(async () => k?.stop());

/** A request with its path sent byte for byte (fetch would normalise a bad escape). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(k.httpUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { authorization: `Bearer ${k.adminToken}`, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function expectTyped(
  res: { status: number; text: string },
  code: keyof typeof errorCodes,
): Promise<{ code: string; message: string }> {
  const body = JSON.parse(res.text) as { error: { code: string; message: string; details: unknown } };
  expect(body.error.code).toBe(code);
  expect(res.status).toBe(errorCodes[code].status);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.details).toBeTypeOf('object');
  return body.error;
}

const json = { 'content-type': 'application/json' };

describe('error bodies', () => {
  it('an oversized body is BODY_TOO_LARGE with 413, as documented', async () => {
    const err = await expectTyped(
      await raw(
        'POST',
        '/api/machines/52:54:00:00:00:01/assign',
        json,
        JSON.stringify({ profile: 'x'.repeat(70_000) }),
      ),
      'BODY_TOO_LARGE',
    );
    expect(err.message).toContain('64 KiB');
  });

  it('a body that is not JSON is MEDIA_TYPE_UNSUPPORTED with 415', async () => {
    await expectTyped(
      await raw(
        'POST',
        '/api/machines/52:54:00:00:00:01/assign',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'profile=x',
      ),
      'MEDIA_TYPE_UNSUPPORTED',
    );
  });

  it('broken JSON and a body failing the route schema are REQUEST_INVALID with 400', async () => {
    await expectTyped(
      await raw('POST', '/api/machines/52:54:00:00:00:01/assign', json, '{"profile": '),
      'REQUEST_INVALID',
    );
    await expectTyped(
      await raw('POST', '/api/machines/52:54:00:00:00:01/assign', json, '{"nope": 1}'),
      'REQUEST_INVALID',
    );
  });

  it("a path that is not valid percent-encoding is REQUEST_INVALID, not fastify's own body", async () => {
    await expectTyped(await raw('GET', '/api/machines/%E0%A4%A'), 'REQUEST_INVALID');
  });

  it('an over-long path parameter is URL_TOO_LONG with 414', async () => {
    await expectTyped(await raw('GET', `/api/machines/${'a'.repeat(300)}`), 'URL_TOO_LONG');
  });

  it('an unknown route, an unknown mirror file and a mirror path with .. are typed', async () => {
    await expectTyped(await raw('GET', '/no/such/thing'), 'NOT_FOUND');
    const missing = await expectTyped(
      await raw('GET', '/mirror/flatcar/stable/amd64-usr/current/nothing.bin'),
      'NOT_FOUND',
    );
    expect(missing.message).toContain('GET /api/mirror lists the versions held');
    await expectTyped(await raw('GET', '/mirror/flatcar/%2E%2E/x'), 'PATH_INVALID');
  });

  it('a domain error keeps its own code: an unknown machine, a bad MAC, no token', async () => {
    await expectTyped(await raw('GET', '/api/machines/52:54:00:00:00:99'), 'MACHINE_UNKNOWN');
    await expectTyped(await raw('GET', '/api/machines/not-a-mac'), 'MAC_INVALID');
    await expectTyped(await raw('GET', '/api/machines', { authorization: '' }), 'AUTH_REQUIRED');
  });

  it('keeps serving afterwards', async () => {
    expect((await k.get('/healthz')).status).toBe(200);
  });
});
