import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUrlText } from '../../src/render/fixtures.test-data.js';
import { FakeUpstream, makeSigner } from '../mirror/support/fake-upstream.js';
import { flatcarSource } from '../mirror/support/mirror-harness.js';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';
import { OmahaClient } from './omaha-client.js';

// A Flatcar node behind NAT: machines.yaml reserves it 10.77.0.42, but its update checks
// reach Kindling from another address (here 127.0.0.1). Its target config's update.conf
// names it by key (SERVER=.../v1/update/?node=KEY), and the update check sent to exactly
// that URL lands on its row. A forged key, or the key from before a reinstall, lands on none.

const natMac = '52:54:00:4e:a7:01';
const neighbourMac = '52:54:00:4e:a7:02';
const machinesYaml =
  `- { mac: "${natMac}", name: behind-nat, profile: flatcar-install, ip: 10.77.0.42 }\n` +
  `- { mac: "${neighbourMac}", name: neighbour, profile: flatcar-install }\n`;

interface UpdatesView {
  machines: Array<{
    machineId: string;
    version: string;
    state: string;
    ip: string;
    mac: string | null;
    name: string | null;
    matchedBy: 'key' | 'address' | null;
    sentKey: boolean;
  }>;
}

let upstream: FakeUpstream;
let k: TestKindling;

/** update.conf's SERVER= from the target config the machine itself is served. */
async function serverOf(mac: string): Promise<string> {
  const res = await k.get(`/ignition?mac=${mac}&phase=target`);
  expect(res.status).toBe(200);
  return updateConfServer(await res.text());
}

function updateConfServer(ignition: string): string {
  const files = (JSON.parse(ignition) as { storage: { files: Array<{ path: string; contents: { source: string } }> } })
    .storage.files;
  const conf = files.find((f) => f.path === '/etc/flatcar/update.conf');
  expect(conf).toBeDefined();
  const server = /^SERVER=(.*)$/m.exec(dataUrlText(conf?.contents.source ?? ''))?.[1];
  expect(server).toBeDefined();
  return server as string;
}

async function record(machineId: string): Promise<UpdatesView['machines'][number] | undefined> {
  const view = (await (await k.api('GET', '/api/updates')).json()) as UpdatesView;
  return view.machines.find((m) => m.machineId === machineId);
}

async function sync(): Promise<void> {
  expect((await k.api('POST', '/api/mirror/sync', {})).status).toBe(202);
  for (let i = 0; i < 300; i++) {
    const state = (await (await k.api('GET', '/api/mirror')).json()) as {
      running: boolean;
      sources: Array<{ current: string | null }>;
    };
    if (!state.running && state.sources[0]?.current === '3815.2.0') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the mirror did not publish 3815.2.0 within 15 s');
}

beforeAll(async () => {
  upstream = new FakeUpstream(await makeSigner('flatcar-update-key'));
  await upstream.start();
  await upstream.addFlatcar('3815.2.0');
  const source = flatcarSource(upstream);
  k = await startTestKindling({
    config: { mirror: { schedule: null, sources: [source] } },
    files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': machinesYaml },
  });
  await sync();
  // The neighbour booted from this box's own address, so the address join alone would name it.
  expect((await k.get(`/ipxe?mac=${neighbourMac}&platform=efi&arch=x86_64`)).status).toBe(200);
});
afterAll(async () => {
  await k?.stop();
  await upstream?.stop();
});

describe('update checks from behind NAT', () => {
  it("the check sent to update.conf's SERVER from another address shows on the machine's row", async () => {
    const server = await serverOf(natMac);
    expect(server).toMatch(new RegExp(`^${k.httpUrl}/v1/update/\\?node=[A-Za-z0-9_-]{32}$`));
    // The same key on every render: a node that fetched its config before a restart keeps it.
    expect(await serverOf(natMac)).toBe(server);
    const node = new OmahaClient(server, 'a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7', '3815.2.0');
    expect(await node.check()).toMatchObject({ status: 200, appStatus: 'ok', check: 'noupdate' });
    expect(await record(node.machineId)).toMatchObject({
      ip: '127.0.0.1',
      mac: natMac,
      name: 'behind-nat',
      matchedBy: 'key',
      version: '3815.2.0',
      state: 'up-to-date',
    });
    // Neither the machines API nor the page's previews show the key.
    const key = new URL(server).searchParams.get('node') as string;
    expect(await (await k.api('GET', '/api/machines')).text()).not.toContain(key);
    const preview = await (await k.api('GET', `/api/machines/${natMac}/render?as=ignition&phase=target`)).text();
    expect(preview).not.toContain(key);
    expect(updateConfServer(preview)).toBe(`${k.httpUrl}/v1/update/?node=********`);
    const draft = await k.api('POST', '/api/profiles/preview', {
      yaml: flatcarInstallProfile,
      mac: natMac,
      as: 'ignition',
      phase: 'target',
    });
    expect(draft.status).toBe(200);
    const draftText = await draft.text();
    expect(draftText).not.toContain(key);
    expect(updateConfServer(draftText)).toBe(`${k.httpUrl}/v1/update/?node=********`);
  });

  it('a forged key names no machine, even from an address the address join would give one', async () => {
    const forged = new OmahaClient(`${k.httpUrl}/v1/update/?node=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, 'f0f0', '3815.2.0');
    expect((await forged.check()).status).toBe(200);
    expect(await record('f0f0')).toMatchObject({ mac: null, name: null, matchedBy: null, sentKey: true });
    // Without a key the address join still names the machine last seen at the address.
    const keyless = new OmahaClient(`${k.httpUrl}/v1/update/`, 'f1f1', '3815.2.0');
    expect((await keyless.check()).status).toBe(200);
    expect(await record('f1f1')).toMatchObject({ mac: neighbourMac, name: 'neighbour', matchedBy: 'address' });
  });

  it('a key of the wrong shape counts as no key: answered, never an error', async () => {
    for (const [i, query] of [
      'node=',
      `node=${'A'.repeat(65)}`,
      'node=a%2Fb',
      'node=********',
      'node=a&node=b',
    ].entries()) {
      const node = new OmahaClient(`${k.httpUrl}/v1/update/?${query}`, `f2-${i}`, '3815.2.0');
      expect((await node.check()).status, query).toBe(200);
      expect(await record(node.machineId), query).toMatchObject({ sentKey: false, matchedBy: 'address' });
    }
  });

  it("after a reinstall the old system's key names nothing; the new config's key names the machine", async () => {
    const before = await serverOf(natMac);
    // An install boot, so a reinstall can be asked for; it also puts the machine at 127.0.0.1.
    expect((await k.get(`/ipxe?mac=${natMac}&platform=efi&arch=x86_64`)).status).toBe(200);
    expect((await k.api('POST', `/api/machines/${natMac}/reinstall`)).status).toBe(200);
    const old = new OmahaClient(before, 'a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7', '3815.2.0');
    expect((await old.check()).status).toBe(200);
    expect(await record(old.machineId)).toMatchObject({ mac: null, name: null, matchedBy: null, sentKey: true });
    const after = await serverOf(natMac);
    expect(after).not.toBe(before);
    const reinstalled = new OmahaClient(after, 'b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8', '3815.2.0');
    expect((await reinstalled.check()).status).toBe(200);
    expect(await record(reinstalled.machineId)).toMatchObject({ mac: natMac, name: 'behind-nat', matchedBy: 'key' });
  });
});

describe('update records from before update keys', () => {
  let old: TestKindling | null = null;
  afterAll(async () => old?.stop());

  it('load, and are joined by address as before', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kindling-update-key-old-'));
    mkdirSync(path.join(dataDir, 'state'), { recursive: true });
    const before = {
      machineId: 'c9c9',
      group: 'stable',
      version: '3374.0.0',
      state: 'up-to-date',
      reason: null,
      offered: null,
      offeredAt: null,
      errorCode: null,
      ip: '10.77.0.42',
      alias: '',
      lastSeen: '2026-11-30T08:00:00.000Z',
    };
    writeFileSync(path.join(dataDir, 'state', 'updates.json'), JSON.stringify({ machines: { c9c9: before } }));
    old = await startTestKindling({
      dataDir,
      files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile, 'machines.yaml': machinesYaml },
    });
    const view = (await (await old.api('GET', '/api/updates')).json()) as UpdatesView;
    expect(view.machines).toEqual([
      expect.objectContaining({ machineId: 'c9c9', mac: natMac, name: 'behind-nat', matchedBy: 'address' }),
    ]);
  });
});
