import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../../src/mirror/import-client.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';

// A Fedora CoreOS release on a stick: stable.json (from /streams/) and the artifacts it
// lists, each with .sig, checked against the stream's sha256 and the signature.

let upstream: FakeUpstream;
let k: TestKindling;
let work: string;

async function stick(version: string): Promise<string> {
  const dir = path.join(work, version);
  await mkdir(dir);
  await upstream.addFcos(version);
  for (const [url, data] of upstream.files) {
    if (url.includes(`/builds/${version}/`) || url === '/streams/stable.json')
      await writeFile(path.join(dir, url.split('/').pop() as string), data);
  }
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kindling-import-fcos-'));
  upstream = new FakeUpstream(await makeSigner('fcos-import'));
  const source = {
    name: 'fcos-stable',
    os: 'fcos',
    stream: 'stable',
    arch: 'x86_64',
    baseUrl: 'http://127.0.0.1:9',
    keys: upstream.signer.armoredPublic,
  };
  k = await startTestKindling({ config: { mirror: { schedule: null, sources: [source] } } });
});
afterAll(async () => {
  await k?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('importing a Fedora CoreOS release', () => {
  it('publishes it under the boot names', async () => {
    const outcome = await importDirectory({
      dir: await stick('40.20240416.3.1'),
      baseUrl: k.httpUrl,
      token: k.adminToken,
    });
    expect(outcome).toMatchObject({ source: 'fcos-stable', ok: true, result: 'published', version: '40.20240416.3.1' });
    expect((await k.get('/mirror/fcos/stable/x86_64/40.20240416.3.1/fedora-coreos-live-kernel-x86_64')).status).toBe(
      200,
    );
    expect(
      (await k.get('/mirror/fcos/stable/x86_64/40.20240416.3.1/fedora-coreos-metal.x86_64.raw.xz.sig')).status,
    ).toBe(200);
  });

  it('refuses a truncated artifact, naming it', async () => {
    const version = '40.20240416.3.2';
    const dir = await stick(version);
    const rootfs = `fedora-coreos-${version}-live-rootfs.x86_64.img`;
    await truncate(path.join(dir, rootfs), 1000);
    const err = (await importDirectory({ dir, baseUrl: k.httpUrl, token: k.adminToken }).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      details: Record<string, unknown>;
    };
    // sha256 and signature are checked in one read; the signature's verdict comes first.
    expect(err.code).toBe('MIRROR_SIGNATURE');
    expect(err.message).toContain(`${rootfs}: bad signature`);
    expect(err.details.file).toBe(rootfs);
    expect((await k.get(`/mirror/fcos/stable/x86_64/${version}/fedora-coreos-live-kernel-x86_64`)).status).toBe(404);
    expect(await readdir(path.join(k.dataDir, 'mirror/.staging'))).toEqual([]);
    const state = (await (await k.api('GET', '/api/mirror')).json()) as { sources: Array<{ current: string }> };
    expect(state.sources[0]?.current).toBe('40.20240416.3.1');
  });
});
