import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, sharedKey, startTestKindling, type TestKindling } from '../../test/support/kindling.js';
import { errorCodes } from '../errors.js';
import { ApiError, KindlingClient, Unreachable } from './index.js';

// The client the command and the page share, against a real Kindling: each answer has
// the shape its type says, a refusal keeps the server's code and status, and no answer
// at all is an Unreachable that says why.

let k: TestKindling;
let client: KindlingClient;
const mac = '52:54:00:00:00:2a';

beforeAll(async () => {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
  client = new KindlingClient({
    baseUrl: k.httpUrl,
    headers: () => ({ authorization: `Bearer ${k.adminToken}` }),
    timeoutMs: 5000,
  });
  await k.get(`/ipxe?mac=${mac}&platform=efi&arch=x86_64`);
});
afterAll(async () => k?.stop());

describe('KindlingClient', () => {
  it('reads machines, profiles, health, events, settings and the mirror', async () => {
    const { machines } = await client.machines();
    expect(machines.find((m) => m.mac === mac)).toMatchObject({
      state: 'discovered',
      token: '********',
      facts: { arch: 'x86_64' },
    });
    expect((await client.machine(mac)).events.map((e) => e.type)).toContain('discovered');
    expect((await client.profiles()).profiles.map((p) => p.name)).toEqual(['flatcar-install']);
    expect((await client.profile('flatcar-install')).profile).toMatchObject({
      name: 'flatcar-install',
      installDisk: '/dev/sda',
    });
    expect(await client.profileSource('flatcar-install')).toBe(flatcarInstallProfile);
    const health = await client.health();
    expect(health.status).toBe('ok');
    expect(health.machines.discovered).toBe(1);
    expect((await client.events({ mac })).events.length).toBeGreaterThan(0);
    expect((await client.settings()).settings.setupComplete).toBe(false);
    expect(Array.isArray((await client.mirror()).sources)).toBe(true);
  });

  it('assigns and renders, token masked', async () => {
    expect((await client.assign(mac, 'flatcar-install', 'n1')).machine).toMatchObject({
      profile: 'flatcar-install',
      name: 'n1',
    });
    const ign = JSON.parse(await client.render(mac, 'ignition')) as { ignition: { version: string } };
    expect(ign.ignition.version).toBe('3.3.0');
    expect(JSON.stringify(ign)).toContain(sharedKey);
  });

  it('checks a draft and answers it as data and as YAML', async () => {
    const check = await client.validateProfile({ profile: { os: 'flatcar', installDisk: 'sda' } });
    expect(check.ok).toBe(false);
    expect(check.issues.map((i) => i.path.join('.'))).toContain('installDisk');
    expect(check.data).toEqual({ os: 'flatcar', installDisk: 'sda' });
    expect(check.yaml).toBe('os: flatcar\ninstallDisk: sda\n');
  });

  it('keeps the code, status, message and details of a refusal', async () => {
    const err = await client.assign(mac, 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const api = err as ApiError;
    expect(api.code).toBe('PROFILE_UNKNOWN');
    expect(api.status).toBe(errorCodes.PROFILE_UNKNOWN.status);
    expect(api.message).toContain('there is no profile "nope"');
    const invalid = (await client.saveProfile('bad', { yaml: 'os: windows\n' }).catch((e: unknown) => e)) as ApiError;
    expect(invalid.code).toBe('PROFILE_INVALID');
    expect(invalid.issues.map((i) => i.path.join('.'))).toContain('os');
  });

  it('tells the page of each refusal before throwing it (a lost session is noticed there)', async () => {
    const seen: string[] = [];
    const anonymous = new KindlingClient({ baseUrl: k.httpUrl, onError: (e, path) => seen.push(`${e.code} ${path}`) });
    await expect(anonymous.machines()).rejects.toMatchObject({ code: 'AUTH_REQUIRED', status: 401 });
    expect(seen).toEqual(['AUTH_REQUIRED /api/machines']);
  });

  it('is Unreachable, with the system code, when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const err = (await new KindlingClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5000 })
      .machines()
      .catch((e: unknown) => e)) as Unreachable;
    expect(err).toBeInstanceOf(Unreachable);
    expect(err.system).toBe('ECONNREFUSED');
    expect(err.reason).toBe('connection refused (nothing listens there)');
    expect(err.url).toBe(`http://127.0.0.1:${port}/api/machines`);
  });
});
