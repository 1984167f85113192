import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness } from './support/mirror-harness.js';

describe('retention, the schedule and the sync API', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('retention-test'));
    await upstream.start();
  });
  afterAll(() => upstream.stop());

  it('keeps `keep` versions, never the one a machine is installing from', async () => {
    upstream.files.clear();
    const installing = new Set<string>();
    const h = await makeHarness({ sources: [flatcarSource(upstream)], keep: 2, inUse: () => installing });
    const dir = path.join(h.dataDir, 'mirror/flatcar/stable/amd64-usr');
    try {
      for (const v of ['200.0.0', '201.0.0']) {
        await upstream.addFlatcar(v);
        expect((await h.mirror.sync())[0]?.ok).toBe(true);
      }
      installing.add('200.0.0');
      await upstream.addFlatcar('202.0.0');
      await h.mirror.sync();
      expect((await readdir(dir)).filter((n) => n !== 'current').sort()).toEqual(['200.0.0', '201.0.0', '202.0.0']);
      installing.clear();
      await upstream.addFlatcar('203.0.0');
      await h.mirror.sync();
      expect((await readdir(dir)).filter((n) => n !== 'current').sort()).toEqual(['202.0.0', '203.0.0']);
      expect(
        h.logs.some((l) => l.msg === 'mirror: removed an old version (mirror.keep)' && l.version === '200.0.0'),
      ).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('POST /api/mirror/sync starts one (202), refuses a second (409) and an unknown source (404)', async () => {
    upstream.files.clear();
    await upstream.addFlatcar('300.0.0');
    upstream.faults.set('/stable/amd64-usr/300.0.0/flatcar_production_image.bin.bz2', { bytesPerSecond: 2 << 20 });
    const h = await makeHarness({ sources: [flatcarSource(upstream)] });
    try {
      expect(
        (await h.app.inject({ method: 'POST', url: '/api/mirror/sync', payload: { source: 'nope' } })).json(),
      ).toMatchObject({ error: { code: 'MIRROR_SOURCE_UNKNOWN' } });
      const first = await h.app.inject({ method: 'POST', url: '/api/mirror/sync' });
      expect(first.statusCode).toBe(202);
      const second = await h.app.inject({
        method: 'POST',
        url: '/api/mirror/sync',
        payload: { source: 'flatcar-stable' },
      });
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ error: { code: 'MIRROR_SYNC_RUNNING' } });
      const progress: unknown[] = [];
      h.mirror.events.on('progress', (e) => progress.push(e));
      await new Promise((r) => h.mirror.events.once('idle', r));
      const state = (await h.app.inject({ url: '/api/mirror' })).json();
      expect(state).toMatchObject({
        running: false,
        sources: [
          {
            name: 'flatcar-stable',
            current: '300.0.0',
            path: '/mirror/flatcar/stable/amd64-usr',
            lastSync: { ok: true, result: 'published' },
          },
        ],
      });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({ source: 'flatcar-stable', done: true });
    } finally {
      await h.close();
    }
  });

  it('never starts a scheduled sync while one is running', async () => {
    upstream.files.clear();
    upstream.faults.clear();
    await upstream.addFlatcar('400.0.0');
    // About 2.5 s for the image while the schedule fires every second.
    upstream.faults.set('/stable/amd64-usr/400.0.0/flatcar_production_image.bin.bz2', { bytesPerSecond: 400 << 10 });
    upstream.requests.length = 0;
    const h = await makeHarness({ sources: [flatcarSource(upstream)], schedule: '* * * * * *' });
    try {
      const started: string[] = [];
      h.mirror.events.on('outcome', (o: { result: string }) => started.push(o.result));
      h.mirror.startSchedule();
      await new Promise((r) => h.mirror.events.once('idle', r));
      expect(upstream.requests.filter((r) => r.url.endsWith('/400.0.0/flatcar_production_image.bin.bz2'))).toHaveLength(
        1,
      );
      expect(upstream.count('/current/version.txt')).toBe(1);
      expect(started).toEqual(['published']);
      expect(h.logs.some((l) => l.msg === 'mirror: scheduled sync skipped; the previous one is still running')).toBe(
        true,
      );
    } finally {
      await h.close();
    }
  });
});
