import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { BootService, Declarations, Inventory } from '../../src/inventory/index.js';
import { buildHttpApp } from '../../src/http/index.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { rawRequest } from './support/raw-http.js';

// The audit's critical finding: GET /%61pi/machines answered 200 without credentials
// because the guard matched the raw URL while the router decodes it. These tests
// spell every admin route every way an attacker would and send it, without
// credentials, to a running Kindling.

const mac = '52:54:00:5e:c0:01';
const adminPassword = 'correct horse battery';

/** Every route the admin scope registers, as the app itself lists them. */
async function adminRoutes(k: TestKindling): Promise<Array<{ method: string; url: string }>> {
  const config = parseConfig(
    { dataDir: k.dataDir, http: { listen: '127.0.0.1', port: 0 }, dhcp: { mode: 'off' } },
    'test',
    k.dataDir,
  );
  const declarations = new Declarations(`${k.dataDir}/config`);
  declarations.reload();
  const inventory = await Inventory.open({ stateDir: `${k.dataDir}/enumerate`, declarations, unknownRule: 'wait' });
  const mirror = { state: () => ({}), startSync: () => ({}) } as never;
  const boot = new BootService({ inventory, retrySeconds: config.boot.retrySeconds });
  const tls = { fingerprint: k.tlsFingerprint, port: () => 0 };
  const app = buildHttpApp({
    config,
    inventory,
    boot,
    declarations,
    logger: pino({ level: 'silent' }),
    adminToken: 'x',
    auth: k.auth,
    settings: k.settings,
    mirror,
    updates: {} as never,
    network: {} as never,
    hostAddress: {} as never,
    tls,
    leasedAddress: () => null,
    services: () => [],
    version: 'test',
    webuiDir: null,
  });
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (r.url.startsWith('/api')) routes.push({ method, url: r.url });
  });
  await app.ready();
  await app.close();
  await inventory.close();
  return routes.filter((r) => r.method !== 'HEAD');
}

/** The spellings of one path an attacker tries; the router decodes some to the route. */
function spellings(path: string): string[] {
  const rest = path.slice('/api'.length);
  return [
    `/%61pi${rest}`,
    `/ap%69${rest}`,
    `/%61%70%69${rest}`,
    `/%2561pi${rest}`,
    `/API${rest}`,
    `/Api${rest}`,
    `${path}/`,
    `//api${rest}`,
    `/./api${rest}`,
    `/x/../api${rest}`,
    `/api/.${rest}`,
    `/api%2f${rest.slice(1)}`,
    `/api/${rest.slice(1).replace(/^(.)/, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
    `${path};x`,
    `${path}%00`,
    `${path}?x=1`,
  ];
}

const bodies: Record<string, unknown> = {
  '/api/machines/:mac/assign': { profile: 'flatcar-install', name: 'stolen' },
  '/api/settings': { unknownRule: { profile: 'flatcar-install', name: 'pwn-{{n}}' } },
  '/api/profiles/:name': { yaml: 'os: flatcar\nchannel: stable\nmode: live\nconfig: ignition\n' },
  '/api/mirror/sync': {},
  '/api/setup/password': { password: 'attacker-password' },
  '/api/login': { password: 'guess-guess' },
  '/api/password': { current: 'a', password: 'attacker-password' },
};

let k: TestKindling;
beforeAll(async () => {
  k = await startTestKindling({
    files: { 'machines.yaml': `- { mac: "${mac}", name: victim, profile: flatcar-install }\n` },
  });
});
afterAll(async () => k?.stop());

describe('the admin API without credentials, every route, every spelling', () => {
  it('refuses each one (401 or 404), and nothing changed', async () => {
    const routes = await adminRoutes(k);
    // The enumeration itself must see the routes the audit named, or the sweep proves nothing.
    for (const expected of [
      'GET /api/machines',
      'PUT /api/profiles/:name',
      'POST /api/machines/:mac/assign',
      'PUT /api/settings',
      'POST /api/mirror/sync',
      'GET /api/events',
    ]) {
      expect(routes.map((r) => `${r.method} ${r.url}`)).toContain(expected);
    }
    // First boot's one public write (setting the password) is over; from here on it is refused too.
    expect(
      (
        await rawRequest(k.httpUrl, 'POST', '/api/setup/password', {
          body: JSON.stringify({ password: adminPassword }),
        })
      ).status,
    ).toBe(200);
    const before = (await (await k.api('GET', '/api/machines')).json()) as unknown;
    const answered: string[] = [];
    for (const route of routes) {
      const path = route.url.replace(':mac', mac).replace(':name', 'evil');
      const body = bodies[route.url];
      for (const spelled of spellings(path)) {
        const res = await rawRequest(k.httpUrl, route.method, spelled, {
          headers: { accept: 'text/event-stream' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }).catch((err: Error) => ({ status: -1, body: err.message }));
        // The public session routes may answer (that is their job); they must never hand out a session here.
        const isPublic = ['/api/session', '/api/login', '/api/setup/password'].includes(route.url);
        if (isPublic) {
          if (res.status < 300) expect(`${route.method} ${spelled}: ${res.body}`).not.toMatch(/"authenticated":true/);
          continue;
        }
        if (![401, 404, 400, -1].includes(res.status)) answered.push(`${route.method} ${spelled} -> ${res.status}`);
      }
    }
    expect(answered).toEqual([]);
    expect(await (await k.api('GET', '/api/machines')).json()).toEqual(before);
    expect((await k.api('GET', '/api/profiles/evil')).status).toBe(404);
    expect(
      ((await (await k.api('GET', '/api/settings')).json()) as { settings: { unknownRule: unknown } }).settings
        .unknownRule,
    ).toBeNull();
    expect(
      (
        await rawRequest(k.httpUrl, 'POST', '/api/login', {
          localAddress: '127.0.0.5',
          body: JSON.stringify({ password: adminPassword }),
        })
      ).status,
    ).toBe(200);
  });

  it('the decoded spelling does reach the route: with the token, /%61pi/machines answers the list', async () => {
    // The positive control: without it, a 404 for every spelling would pass the sweep above.
    const res = await rawRequest(k.httpUrl, 'GET', '/%61pi/machines', {
      headers: { authorization: `Bearer ${k.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain(mac);
    const refused = await rawRequest(k.httpUrl, 'GET', '/%61pi/machines');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'AUTH_REQUIRED' } });
  });

  it('the event stream opens for no one without credentials, however spelled', async () => {
    for (const spelled of ['/%61pi/events', '/api/%65vents', '/api/events']) {
      const res = await rawRequest(k.httpUrl, 'GET', spelled, { headers: { accept: 'text/event-stream' } });
      expect(res.status, spelled).toBe(401);
      expect(res.headers['content-type']).not.toMatch(/event-stream/);
    }
  });

  it('a session cookie without the CSRF token cannot write through an encoded path', async () => {
    // From another address: the sweep's wrong guesses locked out 127.0.0.1, as they should.
    const set = await rawRequest(k.httpUrl, 'POST', '/api/login', {
      localAddress: '127.0.0.6',
      body: JSON.stringify({ password: adminPassword }),
    });
    expect(set.status).toBe(200);
    const cookie = String([set.headers['set-cookie']].flat()[0]).split(';')[0]!;
    for (const spelled of [`/%61pi/machines/${mac}/assign`, `/api/machines/${mac}/%61ssign`]) {
      const res = await rawRequest(k.httpUrl, 'POST', spelled, {
        headers: { cookie },
        body: JSON.stringify({ profile: 'flatcar-install', name: 'stolen' }),
      });
      expect(res.status, spelled).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'CSRF_INVALID' } });
    }
    expect(k.inventory.get(mac)?.name).toBe('victim');
  });
});
