import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness } from './support/mirror-harness.js';

const image = 'flatcar_production_image.bin.bz2';
const imagePath = `/stable/amd64-usr/500.0.0/${image}`;

describe('resume edge cases and shutdown', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('resume-test'));
    await upstream.start();
    await upstream.addFlatcar('500.0.0');
  });
  afterAll(() => upstream.stop());

  it('starts the file over when upstream ignores Range, and still publishes a good copy', async () => {
    const h = await makeHarness({ sources: [flatcarSource(upstream)] });
    try {
      upstream.faults.set(imagePath, { truncateAt: 200_000 });
      expect((await h.mirror.sync())[0]?.error?.code).toBe('MIRROR_TRUNCATED');
      upstream.faults.set(imagePath, { noRange: true });
      upstream.requests.length = 0;
      const [outcome] = await h.mirror.sync();
      expect(outcome).toMatchObject({ ok: true, version: '500.0.0' });
      expect(upstream.requests.find((r) => r.url === imagePath)?.range).toBe('bytes=200000-');
      const served = await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/current/${image}` });
      expect(served.rawPayload.equals(upstream.files.get(imagePath) as Buffer)).toBe(true);
    } finally {
      upstream.faults.clear();
      await h.close();
    }
  });

  it('close() stops a download at once and leaves the .partial file for the next run', async () => {
    const h = await makeHarness({ sources: [flatcarSource(upstream)] });
    try {
      upstream.faults.set(imagePath, { bytesPerSecond: 256 << 10 });
      const run = h.mirror.sync();
      await new Promise<void>((resolve) =>
        h.mirror.events.on(
          'progress',
          (e: { file: string; bytes: number }) => e.file === image && e.bytes > 0 && resolve(),
        ),
      );
      const started = Date.now();
      await h.mirror.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      const [outcome] = await run;
      expect(outcome?.ok).toBe(false);
      const partial = path.join(h.dataDir, 'mirror/.staging/flatcar-stable/500.0.0', `${image}.partial`);
      expect((await stat(partial)).size).toBeGreaterThan(0);
    } finally {
      upstream.faults.clear();
      await h.close();
    }
  });
});
