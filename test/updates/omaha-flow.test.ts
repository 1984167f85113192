import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { updateEngineCheck } from '../../src/updates/fixtures.test-data.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, KindlingClient } from '../../src/api-client/index.js';
import { FakeUpstream, makeSigner } from '../mirror/support/fake-upstream.js';
import { flatcarSource } from '../mirror/support/mirror-harness.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { OmahaClient } from './omaha-client.js';

// Installed Flatcar nodes asking a real Kindling for updates, as update_engine does,
// against a mirror synced from a local fake upstream signed with a throwaway key.

let upstream: FakeUpstream;
let k: TestKindling;
let server: string;

interface UpdatesView {
  groups: Array<{
    name: string;
    target: string | null;
    slotsInUse: number;
    policy: { paused: boolean; rolloutLimit: number | null };
  }>;
  machines: Array<{ machineId: string; version: string; state: string; reason: string | null; mac: string | null }>;
}

async function sync(): Promise<{ ok: boolean; version: string | null; error: { code: string } | null }> {
  expect((await k.api('POST', '/api/mirror/sync', {})).status).toBe(202);
  for (let i = 0; i < 300; i++) {
    const state = (await (await k.api('GET', '/api/mirror')).json()) as {
      running: boolean;
      sources: Array<{
        lastSync: { ok: boolean; version: string | null; finishedAt: string; error: { code: string } | null } | null;
      }>;
    };
    if (!state.running && state.sources[0]?.lastSync) return state.sources[0].lastSync;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the sync did not end within 15 s');
}

async function view(): Promise<UpdatesView> {
  return (await (await k.api('GET', '/api/updates')).json()) as UpdatesView;
}
const machine = async (id: string) => (await view()).machines.find((m) => m.machineId === id);

beforeAll(async () => {
  upstream = new FakeUpstream(await makeSigner('flatcar-omaha'));
  await upstream.start();
  await upstream.addFlatcar('3815.2.0');
  const source = flatcarSource(upstream);
  k = await startTestKindling({ config: { mirror: { schedule: null, sources: [source] } } });
  server = `${k.httpUrl}/v1/update/`;
  expect(await sync()).toMatchObject({ ok: true, version: '3815.2.0' });
});
afterAll(async () => {
  await k?.stop();
  await upstream?.stop();
});

describe('Omaha updates from the mirror', () => {
  it('tells a node on the mirrored version there is no update', async () => {
    const node = new OmahaClient(server, 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', '3815.2.0');
    const answer = await node.check();
    expect(answer).toMatchObject({ status: 200, appStatus: 'ok', check: 'noupdate', offer: null });
    expect(await machine(node.machineId)).toMatchObject({ version: '3815.2.0', state: 'up-to-date' });
  });

  it(
    'after a sync of a newer release, offers it; the node downloads and ' + 'checks it, reports, and shows as updated',
    async () => {
      const files = await upstream.addFlatcar('3815.2.1');
      expect(await sync()).toMatchObject({ ok: true, version: '3815.2.1' });
      const node = new OmahaClient(server, 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', '3815.2.0');
      const { offer } = await node.check();
      expect(offer).not.toBeNull();
      expect(offer?.version).toBe('3815.2.1');
      expect(offer?.url).toBe(`${k.httpUrl}/mirror/flatcar/stable/amd64-usr/3815.2.1/flatcar_production_update.gz`);
      await node.event(13, 1);
      expect(await machine(node.machineId)).toMatchObject({ state: 'downloading' });
      const payload = Buffer.from(await (await fetch(offer?.url as string)).arrayBuffer());
      // update_engine's own checks: PayloadProcessor::VerifyPayload size and base64 sha256.
      expect(payload.length).toBe(offer?.size);
      expect(createHash('sha256').update(payload).digest('base64')).toBe(offer?.sha256);
      expect(payload.equals(files.get('flatcar_production_update.gz') as Buffer)).toBe(true);
      await node.event(14, 1);
      await node.event(3, 1);
      expect(await machine(node.machineId)).toMatchObject({ state: 'installed', version: '3815.2.0' });
      node.version = '3815.2.1';
      expect((await node.check('3815.2.0')).check).toBe('noupdate');
      expect(await machine(node.machineId)).toMatchObject({ state: 'updated', version: '3815.2.1' });
    },
  );

  it('a paused group is told noupdate; the machine shows as held with the reason', async () => {
    const put = await k.api('PUT', '/api/updates/groups/stable', { paused: true });
    expect(put.status).toBe(200);
    const node = new OmahaClient(server, 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', '3815.2.0');
    expect((await node.check()).check).toBe('noupdate');
    expect(await machine(node.machineId)).toMatchObject({
      state: 'held',
      reason: 'updates for group stable are paused',
    });
  });

  it('a rollout limit of 1 lets one machine at a time update; an error frees the slot', async () => {
    expect((await k.api('PUT', '/api/updates/groups/stable', { paused: false, rolloutLimit: 1 })).status).toBe(200);
    const first = new OmahaClient(server, 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3', '3815.2.0');
    const second = new OmahaClient(server, 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4', '3815.2.0');
    expect((await first.check()).check).toBe('ok');
    expect((await second.check()).check).toBe('noupdate');
    expect((await machine(second.machineId))?.reason).toContain('rollout limit');
    // The slot holder asking again is answered the same, not refused by its own slot.
    expect((await first.check()).check).toBe('ok');
    await first.event(3, 0, 2000);
    expect(await machine(first.machineId)).toMatchObject({ state: 'error' });
    expect((await second.check()).check).toBe('ok');
    expect((await view()).groups.find((g) => g.name === 'stable')).toMatchObject({
      slotsInUse: 1,
      policy: { rolloutLimit: 1 },
      target: '3815.2.1',
    });
  });

  it('keeps the policy across a restart (state/update-policy.json)', async () => {
    const dataDir = k.dataDir;
    await k.close();
    const source = {
      name: 'flatcar-stable',
      os: 'flatcar',
      channel: 'stable',
      arch: 'amd64',
      baseUrl: `${upstream.url}/stable`,
      keys: upstream.signer.armoredPublic,
    };
    k = await startTestKindling({ dataDir, config: { mirror: { schedule: null, sources: [source] } } });
    server = `${k.httpUrl}/v1/update/`;
    const after = await view();
    expect(after.groups.find((g) => g.name === 'stable')?.policy.rolloutLimit).toBe(1);
    expect(after.machines.find((m) => m.machineId === 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1')).toMatchObject({
      state: 'updated',
      version: '3815.2.1',
    });
    expect((await k.api('DELETE', '/api/updates/groups/stable')).status).toBe(200);
  });

  it('never offers a release whose payload signature is forged: the sync fails and the old target stays', async () => {
    await upstream.addFlatcar('3815.2.2');
    const sig = '/stable/amd64-usr/3815.2.2/flatcar_production_update.gz.sig';
    const other = upstream.files.get('/stable/amd64-usr/3815.2.2/flatcar_production_image.bin.bz2.sig') as Buffer;
    upstream.files.set(sig, other);
    expect(await sync()).toMatchObject({ ok: false, error: { code: 'MIRROR_SIGNATURE' } });
    const node = new OmahaClient(server, 'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5', '3815.2.0');
    expect((await node.check()).offer?.version).toBe('3815.2.1');
  });

  it('refuses malformed bodies and wrong content types with a typed 400, and keeps answering', async () => {
    for (const [type, body] of [
      ['text/xml', '<request protocol="3.0"><app'],
      ['text/xml', '<!DOCTYPE x [<!ENTITY a "b">]><request/>'],
      ['application/json', '{"a":1}'],
      ['text/plain', 'x'],
      ['application/x-www-form-urlencoded', '<request/>'],
    ]) {
      const res = await k.get('/v1/update/', {
        method: 'POST',
        headers: { 'content-type': type as string },
        body: body as string,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('OMAHA_REQUEST_INVALID');
    }
    const big = await k.get('/v1/update/', {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: `<request protocol="3.0">${' '.repeat(70_000)}</request>`,
    });
    expect(big.status).toBe(413);
    expect((await new OmahaClient(server, 'f6', '3815.2.1').check()).check).toBe('noupdate');
  });

  it("an unknown group gets Nebraska's error word; policy edits need the admin token and a known source", async () => {
    const node = new OmahaClient(server, 'g7', '3815.2.0', 'nightly');
    expect(await node.check()).toMatchObject({
      status: 200,
      appStatus: 'error-unknownApplicationOrGroup',
      check: 'error-internal',
    });
    expect(
      (
        await k.get('/api/updates/groups/stable', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{"paused":true}',
        })
      ).status,
    ).toBe(401);
    const bad = await k.api('PUT', '/api/updates/groups/nightly', { source: 'fcos-stable' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'UPDATE_POLICY_INVALID',
      message: expect.stringContaining('flatcar-stable'),
    });
    const wrong = await k.api('PUT', '/api/updates/groups/nightly', { rolloutLimit: 0 });
    expect(wrong.status).toBe(422);
  });

  it(
    'the shared API client edits policy and shows each machine ' + 'joined to the MAC Kindling knows for its address',
    async () => {
      const client = new KindlingClient({
        baseUrl: k.httpUrl,
        headers: () => ({ authorization: `Bearer ${k.adminToken}` }),
        timeoutMs: 5000,
      });
      // The node booted through Kindling from this address once, so the inventory knows its MAC.
      await k.get('/ipxe?mac=52:54:00:0a:0b:0c&platform=efi&arch=x86_64');
      const view = await client.setUpdatePolicy('stable', { version: '3815.2.0', rolloutLimit: 5 });
      expect(view.groups.find((g) => g.name === 'stable')).toMatchObject({
        policy: { version: '3815.2.0', rolloutLimit: 5, paused: false },
        target: '3815.2.0',
        source: 'flatcar-stable',
      });
      expect((await new OmahaClient(server, 'h8', '3374.0.0').check()).offer?.version).toBe('3815.2.0');
      const seen = (await client.updates()).machines.find((m) => m.machineId === 'h8');
      expect(seen).toMatchObject({ mac: '52:54:00:0a:0b:0c', ip: '127.0.0.1', version: '3374.0.0', state: 'offered' });
      const refused = (await client
        .setUpdatePolicy('stable', { version: 'latest' })
        .catch((e: unknown) => e)) as ApiError;
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused.code).toBe('UPDATE_POLICY_INVALID');
      expect((await client.resetUpdatePolicy('stable')).groups.find((g) => g.name === 'stable')?.policy).toEqual({
        source: null,
        version: 'current',
        paused: false,
        rolloutLimit: null,
      });
    },
  );

  it('answers curl posting the body update_engine sends, as an operator tries it by hand', async () => {
    const body = updateEngineCheck({
      version: '3815.2.0',
      track: 'stable',
      machineId: 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0',
    });
    const { stdout } = await promisify(execFile)('curl', [
      '--silent',
      '--show-error',
      '--fail',
      '--max-time',
      '10',
      '-H',
      'Content-Type: text/xml',
      '--data-binary',
      body,
      server,
    ]);
    expect(stdout).toMatch(
      new RegExp(
        /<updatecheck status="ok"><urls><url codebase="http:\/\//.source +
          /127\.0\.0\.1:\d+\/mirror\/flatcar\/stable\/amd64-usr\/3815\.2\.1\/">/.source,
      ),
    );
    expect(stdout).toMatch(
      /<package name="flatcar_production_update.gz" hash_sha256="[A-Za-z0-9+/]{43}=" size="\d+" required="true">/,
    );
  });
});
