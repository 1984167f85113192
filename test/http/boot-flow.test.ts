import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveIgnitionValidate, ignitionText, ignitionValidate } from '../support/ignition-validate.js';
import { flatcarInstallProfile, sharedKey, startTestKindling, type TestKindling } from '../support/kindling.js';

// The path of one node (docs/how-a-node-boots.md) through real HTTP requests against a
// running Kindling: discovered -> assigned -> installing -> installed -> reinstall.

const mac = '52:54:00:55:1c:ee';
const ipxeUrl = (m: string, platform = 'pcbios', arch = 'i386') =>
  `/ipxe?mac=${m.replace(/:/g, '-')}&uuid=8c1a0f4e-0000-4000-8000-000000000001&arch=${arch}&platform=${platform}`;
let k: TestKindling;

beforeAll(async () => {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
});
afterAll(async () => k?.stop());

async function text(res: Response): Promise<string> {
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status}: ${body}`);
  return body;
}

async function state(m: string): Promise<string> {
  const res = await k.api('GET', `/api/machines/${m}`);
  return ((await res.json()) as { machine: { state: string } }).machine.state;
}

describe('one node from power-on to installed', () => {
  let token = '';
  let runningToken = '';

  it('serves /boot.ipxe chaining to /ipxe with the MAC and firmware', async () => {
    const script = await text(await k.get('/boot.ipxe'));
    expect(script).toMatch(/^#!ipxe\n/);
    expect(script).toContain(
      `imgfetch --name ` +
        `kindling ${k.httpUrl}/ipxe?mac=\${net0/mac:hexhyp}&uuid=\${uuid}&arch=\${buildarch}&platform=\${platform} ` +
        `|| goto retry`,
    );
    // An answer that returns (UEFI local disk) ends iPXE with an error, so the firmware moves on.
    expect(script).toContain('imgexec kindling\nexit 1\n:retry\n');
  });

  it('makes a new MAC discovered and gives it the wait loop', async () => {
    const script = await text(await k.get(ipxeUrl(mac)));
    expect(script).toMatch(/sleep \d+\nchain --autofree --replace /);
    expect(await state(mac)).toBe('discovered');
    const { machine } = (await (await k.api('GET', `/api/machines/${mac}`)).json()) as {
      machine: { facts: { arch: string; platform: string }; token: string };
    };
    expect(machine.facts).toMatchObject({ arch: 'i386', platform: 'pcbios' });
    expect(machine.token).toBe('********'); // never shown by the API
  });

  it('has no config for a machine without a profile: 404 with the reason', async () => {
    const res = await k.get(`/ignition?mac=${mac}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'MACHINE_UNASSIGNED' } });
  });

  it('turns the next /ipxe into an install boot once a profile is assigned', async () => {
    const res = await k.api('POST', `/api/machines/${mac}/assign`, { profile: 'flatcar-install', name: 'a-coreos' });
    expect(res.status).toBe(200);
    expect(await state(mac)).toBe('assigned');
    const script = await text(await k.get(ipxeUrl(mac)));
    expect(script).toContain(
      `kernel ${k.httpUrl}/mirror/flatcar/stable/amd64-usr/current/flatcar_production_pxe.vmlinuz`,
    );
    expect(script).toContain(`ignition.config.url=${k.httpUrl}/ignition?mac=${mac}&phase=install`);
    expect(await state(mac)).toBe('installing');
  });

  it('serves an install-phase Ignition that runs flatcar-install against the mirror', async () => {
    const res = await k.get(`/ignition?mac=${mac}`);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = await text(res);
    const script = ignitionText(body);
    expect(script).toContain(
      `flatcar-install -d '/dev/sda' -b '${k.httpUrl}/mirror/flatcar/stable/amd64-usr' -V 'current' -i /tmp/target.ign`,
    );
    expect(script).toContain(`${k.httpUrl}/ignition?mac=${mac}&phase=target`);
    token = /callback\/installed\?mac=[^&]+&token=([A-Za-z0-9_-]{20,})/.exec(script)?.[1] ?? '';
    expect(token).not.toBe('');
    // The installer then fetches the target config, whose running callback has a token of its own.
    const target = await text(await k.get(`/ignition?mac=${mac}&phase=target`));
    runningToken = /callback\/running\?mac=[^&]+&token=([A-Za-z0-9_-]{20,})/.exec(target)?.[1] ?? '';
    expect(runningToken).not.toBe('');
    expect(runningToken).not.toBe(token);
    if (haveIgnitionValidate) expect(ignitionValidate(body)).toEqual({ ok: true, output: '' });
  });

  it.skipIf(!haveIgnitionValidate)(
    'serves a target Ignition that ignition-validate accepts, with its hostname and SSH key',
    async () => {
      const body = await text(await k.get(`/ignition?mac=${mac}&phase=target`));
      expect(ignitionValidate(body)).toEqual({ ok: true, output: '' });
      const ign = JSON.parse(body) as {
        ignition: { version: string };
        passwd: { users: Array<{ name: string; sshAuthorizedKeys: string[] }> };
        storage: { files: Array<{ path: string; contents: { source: string } }> };
      };
      expect(ign.ignition.version).toBe('3.3.0');
      expect(ign.passwd.users.find((u) => u.name === 'core')?.sshAuthorizedKeys).toContain(sharedKey);
      const hostname = ign.storage.files.find((f) => f.path === '/etc/hostname');
      expect(decodeURIComponent(hostname!.contents.source)).toContain('a-coreos.rack.local');
    },
  );

  it('refuses a callback with a wrong token and records it', async () => {
    const res = await k.get(`/callback/installed?mac=${mac}&token=${'x'.repeat(token.length)}`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    expect(await state(mac)).toBe('installing');
    const { events } = (await (await k.api('GET', `/api/machines/${mac}`)).json()) as {
      events: Array<{ type: string }>;
    };
    expect(events.map((e) => e.type)).toContain('callback-refused');
  });

  it('boots an installed machine from its local disk (BIOS sanboot, UEFI exit)', async () => {
    const res = await k.get(`/callback/installed?mac=${mac}&token=${token}`, { method: 'POST' });
    expect(await res.json()).toMatchObject({ state: 'installed', changed: true });
    expect(await text(await k.get(ipxeUrl(mac)))).toContain('sanboot --no-describe --drive 0x80');
    // an error status: UEFI tries the next boot entry
    expect(await text(await k.get(ipxeUrl(mac, 'efi', 'x86_64')))).toMatch(/\nexit 1\n$/);
    // The install token is spent: it can only repeat what it reported, and never report `running`.
    expect(
      await (await k.get(`/callback/installed?mac=${mac}&token=${token}`, { method: 'POST' })).json(),
    ).toMatchObject({ state: 'installed', changed: false });
    expect((await k.get(`/callback/running?mac=${mac}&token=${token}`, { method: 'POST' })).status).toBe(403);
    await text(await k.get(`/callback/running?mac=${mac}&token=${runningToken}`, { method: 'POST' }));
    expect(await state(mac)).toBe('running');
  });

  it('turns a reinstall request back into an install boot, with a fresh token', async () => {
    expect((await k.api('POST', `/api/machines/${mac}/reinstall`)).status).toBe(200);
    const script = await text(await k.get(ipxeUrl(mac)));
    expect(script).toContain('flatcar_production_pxe.vmlinuz');
    expect(await state(mac)).toBe('installing');
    const stale = await k.get(`/callback/installed?mac=${mac}&token=${token}`, { method: 'POST' });
    expect(stale.status).toBe(403);
  });

  it('records every transition with a timestamp', async () => {
    const { events } = (await (await k.api('GET', `/api/machines/${mac}`)).json()) as {
      events: Array<{ at: string; type: string; to?: string }>;
    };
    const path = events.filter((e) => e.type === 'state' || e.type === 'discovered').map((e) => e.to);
    expect(path).toEqual([
      'discovered',
      'assigned',
      'installing',
      'installed',
      'running',
      'reinstall-requested',
      'installing',
    ]);
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
  });
});

describe('bad input gets a clear error and changes nothing', () => {
  it.each([
    ['a MAC that does not parse', '/ipxe?mac=zz-54-00', 400, 'MAC_INVALID'],
    ['a missing MAC', '/ignition', 400, 'REQUEST_INVALID'],
    ['an unknown machine', '/ignition?mac=52:54:00:00:00:99', 404, 'MACHINE_UNKNOWN'],
    ['a path with ..', '/mirror/../state/admin-token', 404, 'NOT_FOUND'],
    ['an unknown phase', `/ignition?mac=${mac}&phase=../../x`, 400, 'REQUEST_INVALID'],
  ])('%s', async (_what, url, status, code) => {
    const res = await k.get(url);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
  });

  it('refuses the admin API without the token', async () => {
    const res = await k.get('/api/machines');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'AUTH_REQUIRED' } });
  });

  it('refuses an unknown profile, a non-JSON body and an oversized body', async () => {
    const unknown = await k.api('POST', `/api/machines/${mac}/assign`, { profile: 'nope' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'there is no profile "nope"; known profiles: flatcar-install',
    );
    const notJson = await fetch(`${k.httpUrl}/api/machines/${mac}/assign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.adminToken}`, 'content-type': 'application/json' },
      body: '{"profile": ',
    });
    expect(notJson.status).toBe(400);
    const huge = await k.api('POST', `/api/machines/${mac}/assign`, {
      profile: 'flatcar-install',
      name: 'x'.repeat(200_000),
    });
    expect(huge.status).toBe(413);
    const traversal = await k.api('POST', `/api/machines/${mac}/assign`, { profile: '../etc/passwd' });
    expect(traversal.status).toBe(400);
    expect(await state(mac)).toBe('installing');
  });

  it('keeps serving after all of that', async () => {
    const res = await k.get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', machines: { installing: 1 } });
  });
});
