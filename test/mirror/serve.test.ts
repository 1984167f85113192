import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness, type Harness } from './support/mirror-harness.js';

const url = '/mirror/flatcar/stable/amd64-usr/3815.2.0/flatcar_production_image.bin.bz2';

describe('GET/HEAD /mirror/*', () => {
  let upstream: FakeUpstream;
  let h: Harness;
  let image: Buffer;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('serve-test'));
    await upstream.start();
    image = (await upstream.addFlatcar('3815.2.0')).get('flatcar_production_image.bin.bz2') as Buffer;
    h = await makeHarness({ sources: [flatcarSource(upstream)] });
    expect((await h.mirror.sync())[0]?.ok).toBe(true);
  });
  afterAll(async () => {
    await h.close();
    await upstream.stop();
  });

  it('answers HEAD with the length, validators and no body', async () => {
    const res = await h.app.inject({ method: 'HEAD', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(image.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(res.headers['last-modified']).toMatch(/GMT$/);
    expect(res.body).toBe('');
  });

  it('serves byte ranges, suffix ranges and refuses unsatisfiable ones', async () => {
    const part = await h.app.inject({ url, headers: { range: 'bytes=1000-1999' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${image.length}`);
    expect(part.rawPayload.equals(image.subarray(1000, 2000))).toBe(true);
    const open = await h.app.inject({ url, headers: { range: `bytes=${image.length - 10}-` } });
    expect(open.rawPayload.equals(image.subarray(image.length - 10))).toBe(true);
    const suffix = await h.app.inject({ url, headers: { range: 'bytes=-5' } });
    expect(suffix.rawPayload.equals(image.subarray(image.length - 5))).toBe(true);
    const bad = await h.app.inject({ url, headers: { range: `bytes=${image.length}-` } });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${image.length}`);
  });

  it('answers 304 to a matching If-None-Match and ignores Range when If-Range does not match', async () => {
    const etag = (await h.app.inject({ method: 'HEAD', url })).headers.etag as string;
    expect((await h.app.inject({ url, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const stale = await h.app.inject({ url, headers: { range: 'bytes=0-9', 'if-range': '"something-else"' } });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.length).toBe(image.length);
    const fresh = await h.app.inject({ url, headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect(fresh.statusCode).toBe(206);
  });

  it('refuses path traversal and serves nothing outside the manifests', async () => {
    for (const bad of [
      '/mirror/flatcar/stable/amd64-usr/../../../../etc/passwd',
      '/mirror/flatcar/stable/amd64-usr/3815.2.0/..%2F..%2F.manifest.json',
      '/mirror/flatcar/stable/amd64-usr/3815.2.0/%2e%2e',
    ]) {
      const res = await h.app.inject({ url: bad });
      expect([400, 404], bad).toContain(res.statusCode);
    }
    for (const hidden of ['.manifest.json', 'current', '']) {
      expect((await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/3815.2.0/${hidden}` })).statusCode).not.toBe(
        200,
      );
    }
    expect((await h.app.inject({ url: '/mirror/.staging/flatcar-stable/x/y/z' })).statusCode).toBe(404);
    expect(
      (await h.app.inject({ url: '/mirror/flatcar/stable/amd64-usr/9999.0.0/flatcar_production_image.bin.bz2' }))
        .statusCode,
    ).toBe(404);
  });

  it(
    'never serves a .partial file or a file that is not in the ' + 'manifest, even inside a version directory',
    async () => {
      const dir = path.join(h.dataDir, 'mirror/flatcar/stable/amd64-usr/3815.2.0');
      await writeFile(path.join(dir, 'flatcar_production_image.bin.bz2.partial'), 'half');
      await writeFile(path.join(dir, 'stray.bin'), 'not verified');
      const staging = path.join(h.dataDir, 'mirror/.staging/flatcar-stable/3816.0.0');
      await mkdir(staging, { recursive: true });
      await writeFile(path.join(staging, 'flatcar_production_image.bin.bz2.partial'), 'half');
      expect((await h.app.inject({ url: `${url}.partial` })).statusCode).toBe(404);
      expect((await h.app.inject({ url: '/mirror/flatcar/stable/amd64-usr/3815.2.0/stray.bin' })).statusCode).toBe(404);
      expect(
        (
          await h.app.inject({
            url: '/mirror/flatcar/stable/amd64-usr/3816.0.0/flatcar_production_image.bin.bz2.partial',
          })
        ).statusCode,
      ).toBe(404);
    },
  );

  it('streams over a real socket with Range, as curl would fetch it', async () => {
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${address}${url}`, { headers: { range: 'bytes=65536-' } });
    expect(res.status).toBe(206);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(image.subarray(65536))).toBe(true);
  });
});
