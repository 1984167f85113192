import { execFileSync } from 'node:child_process';
import { mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness, type Harness } from './support/mirror-harness.js';

describe('Flatcar sync against a fake upstream', () => {
  let upstream: FakeUpstream;
  let h: Harness;
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('flatcar-test'));
    await upstream.start();
    files = await upstream.addFlatcar('3815.2.0');
    h = await makeHarness({ sources: [flatcarSource(upstream)] });
  });
  afterAll(async () => {
    await h.close();
    await upstream.stop();
  });

  it('downloads, verifies and publishes the current version', async () => {
    const [outcome] = await h.mirror.sync();
    expect(outcome).toMatchObject({ source: 'flatcar-stable', ok: true, result: 'published', version: '3815.2.0' });
    const dir = path.join(h.dataDir, 'mirror/flatcar/stable/amd64-usr');
    expect(await readlink(path.join(dir, 'current'))).toBe('3815.2.0');
    const res = await h.app.inject({ url: '/mirror/flatcar/stable/amd64-usr/3815.2.0/flatcar_production_pxe.vmlinuz' });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(files.get('flatcar_production_pxe.vmlinuz') as Buffer)).toBe(true);
    expect(h.mirror.status()).toMatchObject({ name: 'mirror', state: 'running' });
  });

  it('does nothing but check version.txt when the version is already held', async () => {
    const before = upstream.requests.length;
    const [outcome] = await h.mirror.sync();
    expect(outcome).toMatchObject({ ok: true, result: 'current', version: '3815.2.0' });
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/stable/amd64-usr/current/version.txt']);
  });

  it('serves the exact URLs flatcar-install builds from -b, and its gpg check passes', async () => {
    // flatcar/init bin/flatcar-install, prep_url(): with VERSION_ID=current it reads
    // BASE_URL/current/version.txt, takes FLATCAR_VERSION= (sed -n 's/^FLATCAR_VERSION=//p'),
    // then fetches BASE_URL/VERSION/flatcar_production_image.bin.bz2 and its .sig
    // (after `wget --spider` on both) and runs gpg --verify SIG IMAGE.
    const base = '/mirror/flatcar/stable/amd64-usr';
    const versionTxt = await h.app.inject({ url: `${base}/current/version.txt` });
    expect(versionTxt.statusCode).toBe(200);
    const version = versionTxt.body
      .split('\n')
      .map((l) => /^FLATCAR_VERSION=(.*)$/.exec(l)?.[1])
      .find(Boolean);
    expect(version).toBe('3815.2.0');
    const image = `${base}/${version}/flatcar_production_image.bin.bz2`;
    for (const url of [image, `${image}.sig`])
      expect((await h.app.inject({ method: 'HEAD', url })).statusCode).toBe(200);
    const img = await h.app.inject({ url: image });
    const sig = await h.app.inject({ url: `${image}.sig` });
    const work = await mkdtemp(path.join(os.tmpdir(), 'kindling-flatcar-install-'));
    try {
      await writeFile(path.join(work, 'key.asc'), upstream.signer.armoredPublic);
      await writeFile(path.join(work, 'image.bz2'), img.rawPayload);
      await writeFile(path.join(work, 'image.bz2.sig'), sig.rawPayload);
      const env = { ...process.env, GNUPGHOME: path.join(work, 'gnupg') };
      execFileSync('mkdir', ['-m', '700', env.GNUPGHOME]);
      execFileSync('gpg', ['--batch', '--quiet', '--import', path.join(work, 'key.asc')], { env, stdio: 'pipe' });
      // Throws on a bad signature; the mirror served upstream's .sig untouched.
      execFileSync('gpg', ['--batch', '--verify', path.join(work, 'image.bz2.sig'), path.join(work, 'image.bz2')], {
        env,
        stdio: 'pipe',
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('moves current to a new version only once all of it is verified', async () => {
    await upstream.addFlatcar('3815.2.1');
    const [outcome] = await h.mirror.sync();
    expect(outcome).toMatchObject({ ok: true, result: 'published', version: '3815.2.1' });
    const state = h.mirror.state().sources[0];
    expect(state?.current).toBe('3815.2.1');
    expect(state?.versions.map((v) => v.version)).toEqual(['3815.2.1', '3815.2.0']);
    const res = await h.app.inject({ url: '/mirror/flatcar/stable/amd64-usr/current/version.txt' });
    expect(res.body).toContain('FLATCAR_VERSION=3815.2.1');
  });
});
