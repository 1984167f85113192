import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner, sign, type Signer } from './support/fake-upstream.js';
import { flatcarSource, makeHarness, type Harness } from './support/mirror-harness.js';

const base = '/stable/amd64-usr';
const image = 'flatcar_production_image.bin.bz2';

// Each fault: version 1 is mirrored and good, version 2 upstream is broken. The mirror
// must keep serving version 1, say what broke in the log, /healthz and the API, and
// never serve anything of version 2.
describe('faults while syncing a new version', () => {
  let upstream: FakeUpstream;
  let other: Signer;
  let h: Harness;
  let v1Image: Buffer;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('flatcar-test'));
    other = await makeSigner('someone-else');
    await upstream.start();
  });
  afterAll(() => upstream.stop());

  beforeEach(async () => {
    upstream.files.clear();
    upstream.faults.clear();
    upstream.requests.length = 0;
    v1Image = (await upstream.addFlatcar('100.0.0')).get(image) as Buffer;
    h = await makeHarness({ sources: [flatcarSource(upstream)] });
    expect((await h.mirror.sync())[0]?.ok).toBe(true);
    await upstream.addFlatcar('101.0.0');
  });
  afterEach(() => h.close());

  async function expectPreviousServed(code: string, message: RegExp): Promise<void> {
    const [outcome] = await h.mirror.sync();
    expect(outcome).toMatchObject({ ok: false, result: 'failed', error: { code } });
    expect(outcome?.error?.message).toMatch(message);
    const res = await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/current/${image}` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(v1Image)).toBe(true);
    expect(
      (await h.app.inject({ method: 'HEAD', url: `/mirror/flatcar/stable/amd64-usr/101.0.0/${image}` })).statusCode,
    ).toBe(404);
    expect(h.mirror.status()).toMatchObject({ state: 'degraded' });
    expect(h.mirror.status().detail).toContain('last sync failed: mirror source flatcar-stable');
    const api = (await h.app.inject({ url: '/api/mirror' })).json();
    expect(api.sources[0]).toMatchObject({ current: '100.0.0', lastSync: { ok: false, error: { code } } });
    expect(h.logs.some((l) => l.code === code && l.source === 'flatcar-stable' && l.level === 50)).toBe(true);
  }

  it('upstream unreachable', async () => {
    const closed = new FakeUpstream(upstream.signer);
    await closed.start();
    const port = closed.port;
    await closed.stop();
    await h.close(true);
    h = await makeHarness({
      sources: [flatcarSource(upstream, { baseUrl: `http://127.0.0.1:${port}/stable` })],
      dataDir: h.dataDir,
    });
    const [outcome] = await h.mirror.sync();
    expect(outcome?.error).toMatchObject({ code: 'MIRROR_UPSTREAM' });
    expect(outcome?.error?.message).toMatch(
      /flatcar-stable: version\.txt: http:\/\/127\.0\.0\.1:\d+\/stable\/amd64-usr\/current\/version\.txt: ECONNREFUSED/,
    );
    expect(
      (await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/current/${image}` })).rawPayload.equals(v1Image),
    ).toBe(true);
  });

  it('404 on an image', async () => {
    upstream.files.delete(`${base}/101.0.0/${image}`);
    await expectPreviousServed(
      'MIRROR_UPSTREAM',
      /flatcar_production_image\.bin\.bz2: .*: expected HTTP 200 or 206, got 404/,
    );
  });

  it('5xx, retried before giving up', async () => {
    await h.close(true);
    h = await makeHarness({
      sources: [flatcarSource(upstream)],
      dataDir: h.dataDir,
      retry: { attempts: 3, delayMs: 5 },
    });
    upstream.faults.set(`${base}/101.0.0/${image}`, { status: 503 });
    await expectPreviousServed('MIRROR_UPSTREAM', /got 503/);
    expect(upstream.requests.filter((r) => r.url === `${base}/101.0.0/${image}`)).toHaveLength(3);
  });

  it('a truncated body, then resumed with Range on the next run', async () => {
    upstream.faults.set(`${base}/101.0.0/${image}`, { truncateAt: 300_000 });
    await expectPreviousServed('MIRROR_TRUNCATED', /expected 1048576 bytes|broke off after 300000 bytes/);
    const partial = path.join(h.dataDir, 'mirror/.staging/flatcar-stable/101.0.0', `${image}.partial`);
    expect((await stat(partial)).size).toBe(300_000);
    upstream.faults.clear();
    const [outcome] = await h.mirror.sync();
    expect(outcome).toMatchObject({ ok: true, version: '101.0.0' });
    const ranged = upstream.requests.filter((r) => r.url === `${base}/101.0.0/${image}` && r.range);
    expect(ranged.map((r) => r.range)).toEqual(['bytes=300000-']);
    const served = await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/current/${image}` });
    expect(createHash('sha256').update(served.rawPayload).digest('hex')).toBe(
      createHash('sha256')
        .update(upstream.files.get(`${base}/101.0.0/${image}`) as Buffer)
        .digest('hex'),
    );
    expect(await readdir(path.join(h.dataDir, 'mirror/.staging/flatcar-stable'))).toEqual([]);
  });

  it('a wrong signature (made over other data)', async () => {
    upstream.files.set(
      `${base}/101.0.0/${image}.sig`,
      Buffer.from(await sign(upstream.signer, Buffer.from('other data'))),
    );
    await expectPreviousServed('MIRROR_SIGNATURE', /flatcar-stable: flatcar_production_image\.bin\.bz2: bad signature/);
    // Neither the rejected file nor its signature is kept for a resume.
    expect(await readdir(path.join(h.dataDir, 'mirror/.staging/flatcar-stable/101.0.0'))).not.toContain(
      `${image}.partial`,
    );
  });

  it('a signature by another key', async () => {
    const data = upstream.files.get(`${base}/101.0.0/${image}`) as Buffer;
    upstream.files.set(`${base}/101.0.0/${image}.sig`, Buffer.from(await sign(other, data)));
    await expectPreviousServed(
      'MIRROR_SIGNATURE',
      /signed by key ID [0-9A-F]{16}, which is not one of the trusted keys \([0-9A-F]{40}\)/,
    );
  });

  it('a version.txt that does not parse', async () => {
    upstream.files.set(`${base}/current/version.txt`, Buffer.from('<html>maintenance</html>\n'));
    await expectPreviousServed(
      'MIRROR_METADATA',
      /version\.txt at .*: expected FLATCAR_VERSION=MAJOR\.MINOR\.PATCH, found no FLATCAR_VERSION= line/,
    );
  });

  it('a version.txt whose version would climb out of the directory', async () => {
    upstream.files.set(`${base}/current/version.txt`, Buffer.from('FLATCAR_VERSION=../../etc\n'));
    await expectPreviousServed('MIRROR_METADATA', /found FLATCAR_VERSION="\.\.\/\.\.\/etc"/);
  });

  it('a disk that fills up mid-download', async () => {
    await h.close();
    const canMount = process.getuid?.() === 0;
    let mountDir: string | null = null;
    if (canMount) {
      mountDir = await mkdtemp(path.join(os.tmpdir(), 'kindling-tmpfs-'));
      try {
        // Room for version 1 (about 1.2 MB) but not for version 2's image as well.
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1800k', 'tmpfs', mountDir], { stdio: 'pipe' });
      } catch {
        await rm(mountDir, { recursive: true, force: true });
        mountDir = null;
      }
    }
    try {
      if (mountDir) {
        h = await makeHarness({ sources: [flatcarSource(upstream)], dataDir: mountDir });
        upstream.setFlatcarCurrent('100.0.0');
        expect((await h.mirror.sync())[0]?.ok).toBe(true);
        upstream.setFlatcarCurrent('101.0.0');
      } else {
        // Not root or no tmpfs: the same error, injected at the write.
        const { Writable } = await import('node:stream');
        h = await makeHarness({
          sources: [flatcarSource(upstream)],
          dataDir: h.dataDir,
          writeStream: () =>
            new Writable({
              write: (_c, _e, done) =>
                done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
            }),
        });
      }
      await expectPreviousServed(
        'MIRROR_DISK_FULL',
        /flatcar-stable: flatcar_production_image\.bin\.bz2: the disk filled up after \d+ bytes of 1048576/,
      );
      // The space is given back at once: nothing of version 2 stays in staging.
      expect(await readdir(path.join(h.dataDir, 'mirror/.staging/flatcar-stable'))).toEqual([]);
    } finally {
      await h.close();
      if (mountDir) {
        execFileSync('umount', [mountDir]);
        await rm(mountDir, { recursive: true, force: true });
      }
      h = await makeHarness({ sources: [flatcarSource(upstream)] });
    }
  });
});
