import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from '../mirror/support/fake-upstream.js';
import { flatcarSource } from '../mirror/support/mirror-harness.js';
import { dataUrlText } from '../../src/render/fixtures.test-data.js';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';

// The stand-in OS's Omaha client (test/fixtures/standin-os/rootfs/usr/lib/standin/omaha-client),
// run on this host under busybox with busybox's own nc, wget, sha256sum, xxd and base64, against a
// real Kindling: the same script the rack e2e boots, checked here without a VM.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'test/fixtures/standin-os/rootfs/usr/lib/standin/omaha-client');
const busybox = '/bin/busybox';
const unavailable = existsSync(busybox) ? null : `${busybox} is missing (Debian package busybox-static)`;

const mac = '52:54:00:5a:5a:01';

let upstream: FakeUpstream;
let k: TestKindling;
let dir: string;

async function sync(version: string): Promise<void> {
  expect((await k.api('POST', '/api/mirror/sync', {})).status).toBe(202);
  for (let i = 0; i < 300; i++) {
    const state = (await (await k.api('GET', '/api/mirror')).json()) as {
      running: boolean;
      sources: Array<{ current: string | null }>;
    };
    if (!state.running && state.sources[0]?.current === version) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the mirror did not publish ${version} within 15 s`);
}

beforeAll(async () => {
  if (unavailable) return;
  upstream = new FakeUpstream(await makeSigner('standin-omaha'));
  await upstream.start();
  await upstream.addFlatcar('9999.0.0');
  const source = flatcarSource(upstream);
  k = await startTestKindling({
    config: { mirror: { schedule: null, sources: [source] } },
    // Reserved an address the client does not use: only the update key can put it on its row.
    files: {
      'profiles/flatcar-install.yaml': flatcarInstallProfile,
      'machines.yaml': `- { mac: "${mac}", name: standin, profile: flatcar-install, ip: 10.77.0.77 }\n`,
    },
  });
  await sync('9999.0.0');
  dir = mkdtempSync(path.join(tmpdir(), 'kindling-standin-omaha-'));
  // Only busybox's applets on PATH: what the stand-in OS has.
  mkdirSync(path.join(dir, 'bin'));
  for (const app of ['sh', 'cat', 'grep', 'sed', 'tr', 'head', 'tail', 'wc', 'cut', 'cp', 'mv', 'rm', 'mkdir'].concat([
    'sleep',
    'sync',
    'timeout',
    'nc',
    'wget',
    'sha256sum',
    'xxd',
    'base64',
    'printf',
    'echo',
  ]))
    symlinkSync(busybox, path.join(dir, 'bin', app));
  // The update.conf the machine's own target config writes: SERVER carries ?node=KEY.
  const ignition = JSON.parse(await (await k.get(`/ignition?mac=${mac}&phase=target`)).text()) as {
    storage: { files: Array<{ path: string; contents: { source: string } }> };
  };
  const conf = ignition.storage.files.find((f) => f.path === '/etc/flatcar/update.conf');
  writeFileSync(path.join(dir, 'update.conf'), dataUrlText(conf?.contents.source ?? ''));
  const release =
    'FLATCAR_RELEASE_VERSION=9999.0.0\nFLATCAR_RELEASE_BOARD=amd64-usr\n' +
    'FLATCAR_RELEASE_APPID={e96281a6-d1af-4bde-9a0a-97b76e56dc57}\n';
  writeFileSync(path.join(dir, 'release'), release);
  writeFileSync(path.join(dir, 'staged-release'), release);
  writeFileSync(path.join(dir, 'machine-id'), '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a');
});
afterAll(async () => {
  await k?.stop();
  await upstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(unavailable)("the stand-in OS's Omaha client", () => {
  it('asks, is offered the synced release, downloads and checks it, and ends as updated', async () => {
    const child = spawn(busybox, ['sh', script], {
      env: {
        PATH: path.join(dir, 'bin'),
        OMAHA_CONF: path.join(dir, 'update.conf'),
        OMAHA_RELEASE: path.join(dir, 'release'),
        OMAHA_STAGED_RELEASE: path.join(dir, 'staged-release'),
        OMAHA_STATE: path.join(dir, 'state'),
        OMAHA_MACHINE_ID: path.join(dir, 'machine-id'),
        OMAHA_WORK: path.join(dir, 'work'),
        OMAHA_INTERVAL: '1',
        OMAHA_CHECKS: '40',
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const machine = async () =>
      (
        (await (await k.api('GET', '/api/updates')).json()) as {
          machines: Array<{ machineId: string; version: string; state: string; mac: string | null }>;
        }
      ).machines.find((m) => m.machineId === '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a');
    try {
      for (let i = 0; i < 100 && !out.includes('no update for 9999.0.0'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('no update for 9999.0.0');
      expect(readFileSync(path.join(dir, 'update.conf'), 'utf8')).toMatch(
        /\nSERVER=http:\S+\/v1\/update\/\?node=\S+\n/,
      );
      expect(await machine()).toMatchObject({ version: '9999.0.0', state: 'up-to-date', mac });

      await upstream.addFlatcar('9999.1.0');
      await sync('9999.1.0');
      for (let i = 0; i < 150 && (await machine())?.state !== 'updated'; i++)
        await new Promise((r) => setTimeout(r, 200));
      expect(await machine(), out).toMatchObject({ version: '9999.1.0', state: 'updated', mac });
      const payload = upstream.files.get('/stable/amd64-usr/9999.1.0/flatcar_production_update.gz') as Buffer;
      expect(out).toContain(`omaha: offered 9999.1.0: ${k.httpUrl}/mirror/flatcar/stable/amd64-usr/9999.1.0/`);
      expect(out).toContain(`omaha: downloaded ${payload.length} bytes`);
      expect(out).toContain('omaha: size and sha256 match the answer');
      expect(out).toContain('omaha: reported event 3/1');
      // The next boot reads the new version from the disk.
      expect(readFileSync(path.join(dir, 'staged-release'), 'utf8')).toContain('FLATCAR_RELEASE_VERSION=9999.1.0\n');
    } finally {
      child.kill();
    }
  });
});
