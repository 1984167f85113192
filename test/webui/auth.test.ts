import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, sharedKey, startTestKindling, type TestKindling } from '../support/kindling.js';
import { sessionCookieHeader } from '../../src/http/cookies.js';
import { SessionClient } from './session-client.js';

// The page's session auth against a real Kindling: first-boot password, login rate
// limiting, expiry, CSRF, bad bodies and names; every refusal changes nothing.

const password = 'correct horse battery';
let k: TestKindling | null = null;
afterEach(async () => {
  await k?.stop();
  k = null;
});

async function start(): Promise<TestKindling> {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
  return k;
}

const listConfig = (kk: TestKindling) => readdirSync(path.join(kk.dataDir, 'config', 'profiles')).sort();

describe('first boot', () => {
  it('accepts nothing but setting the password until one is set, and keeps the bearer token working', async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    expect(await c.json('GET', '/api/session')).toMatchObject({ passwordSet: false, authenticated: false });
    const refused = await c.request('PUT', '/api/profiles/evil', { yaml: 'os: flatcar\n' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'AUTH_REQUIRED', details: { passwordSet: false } } });
    expect((await c.request('PUT', '/api/settings', { unknownRule: 'wait' })).status).toBe(401);
    expect((await c.request('POST', '/api/login', { password })).status).toBe(403);
    expect(listConfig(kk)).toEqual(['flatcar-install.yaml']);
    expect(existsSync(path.join(kk.dataDir, 'state', 'settings.json'))).toBe(false);
    // The CLI's token is not a browser credential and keeps working.
    expect((await kk.api('GET', '/api/machines')).status).toBe(200);

    const weak = await c.setPassword('short');
    expect(weak.status).toBe(400);
    expect(await weak.json()).toMatchObject({ error: { code: 'PASSWORD_WEAK' } });

    const set = await c.setPassword(password);
    expect(set.status).toBe(200);
    const cookie = set.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^kindling_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP here; Secure when served over TLS
    expect(c.csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    // Hash at rest, never the password; readable by root only.
    const file = path.join(kk.dataDir, 'state', 'admin-password.json');
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(password);
    expect(JSON.parse(stored)).toMatchObject({ algorithm: 'scrypt', N: 32768 });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = await new SessionClient(kk).setPassword('another password');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'PASSWORD_ALREADY_SET' } });
    expect(await c.json('GET', '/api/session')).toMatchObject({ passwordSet: true, authenticated: true, csrf: c.csrf });
  });
});

describe('sessions', () => {
  it('marks the cookie Secure when served over TLS', () => {
    expect(sessionCookieHeader({ value: 'abc', maxAgeSeconds: 60, secure: true })).toBe(
      'kindling_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure',
    );
  });

  it('rate-limits wrong passwords per address, even refusing the right one while locked', async () => {
    const kk = await start();
    await new SessionClient(kk).setPassword(password);
    const c = new SessionClient(kk);
    for (let i = 0; i < 5; i += 1) {
      const res = await c.login(`wrong ${i}`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'LOGIN_FAILED', details: { attemptsLeft: 4 - i } } });
    }
    // Five wrong passwords, then a wait: the sixth guess is not even hashed.
    const sixth = await c.login('wrong again');
    expect(sixth.status).toBe(429);
    const locked = await c.login(password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await locked.json()).toMatchObject({ error: { code: 'LOGIN_RATE_LIMITED' } });
    expect(c.cookie).toBeNull();
    // Once the wait is over, the right password works.
    kk.auth.clock = () => Date.now() + 10 * 60_000;
    expect((await c.login(password)).status).toBe(200);
    expect((await c.request('GET', '/api/machines')).status).toBe(200);
  });

  it('ends a session after its idle time, and on logout', async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    await c.setPassword(password);
    expect((await c.request('GET', '/api/machines')).status).toBe(200);
    kk.auth.clock = () => Date.now() + 61 * 60_000;
    const expired = await c.request('GET', '/api/machines');
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { code: 'SESSION_EXPIRED' } });
    expect(c.cookie).toBeNull(); // the cookie was cleared
    kk.auth.clock = () => Date.now();

    expect((await c.login(password)).status).toBe(200);
    const old = c.cookie;
    expect((await c.request('POST', '/api/logout')).status).toBe(200);
    c.cookie = old;
    expect((await c.request('GET', '/api/machines')).status).toBe(401);
  });

  it("refuses state changes without the session's CSRF token and changes nothing", async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    await c.setPassword(password);
    await kk.get('/ipxe?mac=52:54:00:00:00:01&arch=x86_64&platform=pcbios');
    const forged = [null, 'forged-token', `${c.csrf}x`, (c.csrf ?? '').replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))];
    for (const csrf of forged) {
      const assign = await c.request(
        'POST',
        '/api/machines/52:54:00:00:00:01/assign',
        { profile: 'flatcar-install' },
        { csrf },
      );
      expect(assign.status).toBe(403);
      expect(await assign.json()).toMatchObject({ error: { code: 'CSRF_INVALID' } });
      expect((await c.request('PUT', '/api/profiles/new-one', { yaml: 'os: flatcar\n' }, { csrf })).status).toBe(403);
      expect((await c.request('DELETE', '/api/profiles/flatcar-install', undefined, { csrf })).status).toBe(403);
    }
    // Another session's token is no good either.
    const other = new SessionClient(kk);
    await other.login(password);
    expect(
      (
        await c.request(
          'POST',
          '/api/machines/52:54:00:00:00:01/assign',
          { profile: 'flatcar-install' },
          { csrf: other.csrf },
        )
      ).status,
    ).toBe(403);
    expect(kk.inventory.get('52:54:00:00:00:01')?.state).toBe('discovered');
    expect(listConfig(kk)).toEqual(['flatcar-install.yaml']);
    // Reading needs no CSRF token; the right one changes things.
    expect((await c.request('GET', '/api/machines', undefined, { csrf: null })).status).toBe(200);
    expect(
      (await c.request('POST', '/api/machines/52:54:00:00:00:01/assign', { profile: 'flatcar-install' })).status,
    ).toBe(200);
    expect(kk.inventory.get('52:54:00:00:00:01')?.state).toBe('assigned');
  });

  it('keeps node callbacks and boot routes open, with their own tokens', async () => {
    const kk = await start();
    await new SessionClient(kk).setPassword(password);
    expect((await kk.get('/boot.ipxe')).status).toBe(200);
    expect((await kk.get('/ipxe?mac=52:54:00:00:00:02')).status).toBe(200);
    expect((await kk.get('/callback/installed?mac=52:54:00:00:00:02&token=nope', { method: 'POST' })).status).toBe(403);
    expect((await kk.get('/healthz')).status).toBe(200);
  });
});

describe('bad input', () => {
  it('refuses oversized and malformed bodies and bad profile names, changing nothing', async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    await c.setPassword(password);
    const before = readFileSync(path.join(kk.dataDir, 'config', 'profiles', 'flatcar-install.yaml'), 'utf8');

    const huge = await c.request('PUT', '/api/profiles/flatcar-install', {
      yaml: `os: flatcar\n# ${'x'.repeat(100_000)}\n`,
    });
    expect(huge.status).toBe(413);
    const malformed = await c.request('PUT', '/api/profiles/flatcar-install', '{"yaml": "os: fl');
    expect(malformed.status).toBe(400);
    const notJson = await c.request('POST', '/api/login', 'password=x', {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(notJson.status).toBe(415);
    const neither = await c.request('PUT', '/api/profiles/flatcar-install', { something: 1 });
    expect(neither.status).toBe(400);
    const invalid = await c.request('PUT', '/api/profiles/flatcar-install', {
      yaml: 'os: windows\nusers: [{ name: core, sshAuthorizedKeys: ["not a key"] }]\n',
    });
    expect(invalid.status).toBe(422);
    const body = (await invalid.json()) as { error: { code: string; details: { issues: Array<{ path: string[] }> } } };
    expect(body.error.code).toBe('PROFILE_INVALID');
    expect(body.error.details.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['os', 'users.0.sshAuthorizedKeys.0']),
    );

    for (const name of ['..%2F..%2Fstate%2Fevil', 'a%2Fb', '..', 'a..b', '%2E%2E', 'UPPER', 'x'.repeat(70)]) {
      const res = await c.request('PUT', `/api/profiles/${name}`, { yaml: 'os: flatcar\n' });
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(res.status, name).toBeLessThan(500);
      const err = (await res.json()) as { error: { code: string } };
      expect(['PATH_INVALID', 'REQUEST_INVALID', 'NOT_FOUND'], name).toContain(err.error.code);
    }
    expect(
      (
        (await (await c.request('PUT', '/api/profiles/..%2Fevil', { yaml: 'os: flatcar\n' })).json()) as {
          error: { code: string };
        }
      ).error.code,
    ).toBe('PATH_INVALID');
    expect(listConfig(kk)).toEqual(['flatcar-install.yaml']);
    expect(readdirSync(path.join(kk.dataDir, 'config')).sort()).toEqual(['machines.yaml', 'profiles']);
    expect(existsSync(path.join(kk.dataDir, 'state', 'evil.yaml'))).toBe(false);
    expect(readFileSync(path.join(kk.dataDir, 'config', 'profiles', 'flatcar-install.yaml'), 'utf8')).toBe(before);

    const badRule = await c.request('PUT', '/api/settings', {
      unknownRule: { profile: 'missing', name: 'node-{{n}}' },
    });
    expect(badRule.status).toBe(404);
    const badKeys = await c.request('PUT', '/api/settings', { sshKeys: ['ssh-ed25519 !!!'] });
    expect(badKeys.status).toBe(400);
    expect(await badKeys.json()).toMatchObject({ error: { details: { issues: [{ path: ['sshKeys', '0'] }] } } });
    expect(existsSync(path.join(kk.dataDir, 'state', 'settings.json'))).toBe(false);
  });
});

describe("profiles and settings through the page's API", () => {
  it('validates drafts with key paths, creates, previews, edits and deletes profiles', async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    await c.setPassword(password);
    const bad = await c.json<{ ok: boolean; issues: Array<{ path: string[]; message: string }> }>(
      'POST',
      '/api/profiles/validate',
      { profile: { users: [{ name: 'core', sshAuthorizedKeys: ['ssh-rsa'] }], mode: 'sometimes' } },
    );
    expect(bad.ok).toBe(false);
    expect(bad.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: ['users', '0', 'sshAuthorizedKeys', '0'],
          message: expect.stringMatching(/SSH public key/),
        }),
        expect.objectContaining({ path: ['mode'] }),
      ]),
    );
    expect(await c.json('POST', '/api/profiles/validate', { yaml: 'os: [' })).toMatchObject({
      ok: false,
      issues: [{ path: [], message: expect.stringMatching(/YAML/) }],
    });

    const draft =
      `# workers\nos: flatcar\nchannel: beta\nhostname: "{{name}}.lab"\nusers:\n  - ` +
      `name: core\n    sshAuthorizedKeys: ["${sharedKey}"]\n`;
    expect(await c.json('POST', '/api/profiles/validate', { yaml: draft })).toEqual({
      ok: true,
      issues: [],
      yaml: draft,
      data: {
        os: 'flatcar',
        channel: 'beta',
        hostname: '{{name}}.lab',
        users: [{ name: 'core', sshAuthorizedKeys: [sharedKey] }],
      },
    });
    // The form's draft comes back as the YAML saving it would write, and a broken YAML as no data.
    expect(
      await c.json('POST', '/api/profiles/validate', { profile: { os: 'flatcar', kernelArgs: ['quiet'] } }),
    ).toMatchObject({ ok: true, yaml: 'os: flatcar\nkernelArgs:\n  - quiet\n' });
    expect(await c.json('POST', '/api/profiles/validate', { yaml: 'os: [' })).toMatchObject({
      data: null,
      yaml: 'os: [',
    });
    await kk.get('/ipxe?mac=52:54:00:00:00:03&arch=x86_64&platform=efi');
    const preview = await c.request('POST', '/api/profiles/preview', {
      yaml: draft,
      mac: '52:54:00:00:00:03',
      as: 'ignition',
    });
    expect(preview.status).toBe(200);
    const ign = await preview.text();
    expect(ign).toContain(sharedKey);
    expect(ign).toContain('.lab');
    for (const phase of ['install', 'target'] as const)
      expect(ign).not.toContain(kk.inventory.callbackToken('52:54:00:00:00:03', phase));
    expect(ign).toContain('********');
    expect(
      await (
        await c.request('POST', '/api/profiles/preview', { yaml: draft, mac: '52:54:00:00:00:03', as: 'ipxe' })
      ).text(),
    ).toMatch(/^#!ipxe/);

    const created = await c.json<{ created: boolean; profile: { channel: string } }>('PUT', '/api/profiles/workers', {
      yaml: draft,
    });
    expect(created).toMatchObject({ created: true, profile: { channel: 'beta' } });
    expect(readFileSync(path.join(kk.dataDir, 'config', 'profiles', 'workers.yaml'), 'utf8')).toBe(draft);
    expect(await (await c.request('GET', '/api/profiles/workers/source')).text()).toBe(draft);
    const edited = await c.json<{ created: boolean }>('PUT', '/api/profiles/workers', {
      profile: { os: 'flatcar', channel: 'alpha' },
    });
    expect(edited.created).toBe(false);
    expect(kk.declarations.profiles.get('workers')?.channel).toBe('alpha');

    expect((await c.request('POST', '/api/machines/52:54:00:00:00:03/assign', { profile: 'workers' })).status).toBe(
      200,
    );
    const inUse = await c.request('DELETE', '/api/profiles/workers');
    expect(inUse.status).toBe(400);
    expect(existsSync(path.join(kk.dataDir, 'config', 'profiles', 'workers.yaml'))).toBe(true);
    expect((await c.request('DELETE', '/api/machines/52:54:00:00:00:03')).status).toBe(200);
    expect((await c.request('DELETE', '/api/profiles/workers')).status).toBe(200);
    expect(kk.declarations.profiles.has('workers')).toBe(false);
  });

  it("saves the wizard's settings atomically and applies the unknown-machine rule at once", async () => {
    const kk = await start();
    const c = new SessionClient(kk);
    await c.setPassword(password);
    const saved = await c.json<{ inForce: { mirrorSources: Array<{ name: string }> } }>('PUT', '/api/settings', {
      setupComplete: true,
      sshKeys: [sharedKey],
      defaultProfile: 'flatcar-install',
      unknownRule: { profile: 'flatcar-install', name: 'rack-{{n}}' },
      mirrorSources: [{ name: 'flatcar-beta', os: 'flatcar', channel: 'beta', arch: 'arm64' }],
    });
    expect(saved.inForce.mirrorSources.map((s) => s.name)).toEqual(['flatcar-beta']);
    expect(kk.settings.mirrorSources()[0]).toMatchObject({ channel: 'beta', arch: 'arm64', baseUrl: null });
    const file = JSON.parse(readFileSync(path.join(kk.dataDir, 'state', 'settings.json'), 'utf8')) as {
      setupComplete: boolean;
    };
    expect(file.setupComplete).toBe(true);
    await kk.get('/ipxe?mac=52:54:00:00:00:04');
    expect(kk.inventory.get('52:54:00:00:00:04')).toMatchObject({
      name: 'rack-1',
      profile: 'flatcar-install',
      state: 'installing',
    });
    expect(await c.json('GET', '/api/session')).toMatchObject({ setupComplete: true });
    const network = await c.json<{ recommendation: { mode: string; why: string } }>('GET', '/api/setup/network');
    expect(network.recommendation.why).toMatch(/DHCP/);
  });
});
