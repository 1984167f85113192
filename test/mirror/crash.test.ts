import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness } from './support/mirror-harness.js';

const child = fileURLToPath(new URL('./support/sync-child.ts', import.meta.url));
const image = 'flatcar_production_image.bin.bz2';
const imagePath = `/stable/amd64-usr/101.0.0/${image}`;

function startChild(args: object): { proc: ChildProcess; waitFor: (pattern: RegExp) => Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never printed ${pattern}; output:\n${out}`)), 30_000);
      const check = (): void => {
        const m = pattern.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        } else waiters.push(check);
      };
      check();
    });
  return { proc, waitFor };
}

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

describe('kill -9 during a sync', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = new FakeUpstream(await makeSigner('flatcar-test'));
    await upstream.start();
    await upstream.addFlatcar('100.0.0');
  });
  afterAll(() => upstream.stop());

  it('mid-download: the old version stays served, and the next run resumes with Range', async () => {
    const h = await makeHarness({ sources: [flatcarSource(upstream)] });
    try {
      expect((await h.mirror.sync())[0]?.ok).toBe(true);
      await upstream.addFlatcar('101.0.0');
      // Slow enough that the kill lands mid-file.
      upstream.faults.set(imagePath, { bytesPerSecond: 512 << 10 });
      const { proc, waitFor } = startChild({ dataDir: h.dataDir, source: flatcarSource(upstream), stopAt: null });
      await waitFor(new RegExp(`PROGRESS ${image.replace(/\./g, '\\.')} [1-9]\\d{5,}`));
      await kill9(proc);
      const partial = path.join(h.dataDir, 'mirror/.staging/flatcar-stable/101.0.0', `${image}.partial`);
      const held = (await stat(partial)).size;
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(1 << 20);
      // Still the old version, and the partial file has no URL.
      await h.mirror.refresh();
      expect(h.mirror.state().sources[0]?.current).toBe('100.0.0');
      expect(
        (await h.app.inject({ method: 'HEAD', url: `/mirror/flatcar/stable/amd64-usr/101.0.0/${image}.partial` }))
          .statusCode,
      ).toBe(404);
      expect(
        (await h.app.inject({ method: 'HEAD', url: `/mirror/flatcar/stable/amd64-usr/101.0.0/${image}` })).statusCode,
      ).toBe(404);

      upstream.faults.clear();
      upstream.requests.length = 0;
      const [outcome] = await h.mirror.sync();
      expect(outcome).toMatchObject({ ok: true, version: '101.0.0', result: 'published' });
      const resumed = upstream.requests.find((r) => r.url === imagePath);
      expect(resumed?.range).toMatch(/^bytes=\d+-$/);
      expect(Number(/bytes=(\d+)-/.exec(resumed?.range ?? '')?.[1])).toBeGreaterThan(0);
      const served = await h.app.inject({ url: `/mirror/flatcar/stable/amd64-usr/current/${image}` });
      expect(served.rawPayload.equals(upstream.files.get(imagePath) as Buffer)).toBe(true);
    } finally {
      await h.close();
    }
  });

  for (const step of ['publish', 'current'] as const) {
    it(`mid-publish (before the ${step} step): nothing half-published, and the next run finishes it`, async () => {
      upstream.files.clear();
      await upstream.addFlatcar('100.0.0');
      const h = await makeHarness({ sources: [flatcarSource(upstream)] });
      try {
        expect((await h.mirror.sync())[0]?.ok).toBe(true);
        await upstream.addFlatcar('101.0.0');
        const { proc, waitFor } = startChild({ dataDir: h.dataDir, source: flatcarSource(upstream), stopAt: step });
        await waitFor(new RegExp(`AT ${step}`));
        await kill9(proc);
        const dir = path.join(h.dataDir, 'mirror/flatcar/stable/amd64-usr');
        expect(await readlink(path.join(dir, 'current'))).toBe('100.0.0');
        await h.mirror.refresh();
        expect(h.mirror.state().sources[0]?.current).toBe('100.0.0');
        const listed = await readdir(dir);
        expect(listed.includes('101.0.0')).toBe(step === 'current');

        upstream.requests.length = 0;
        const [outcome] = await h.mirror.sync();
        expect(outcome).toMatchObject({ ok: true, version: '101.0.0' });
        // Everything was verified before the kill: nothing is downloaded again.
        expect(upstream.requests.filter((r) => r.url.endsWith(image))).toHaveLength(0);
        expect(await readlink(path.join(dir, 'current'))).toBe('101.0.0');
        expect(
          (await h.app.inject({ method: 'HEAD', url: `/mirror/flatcar/stable/amd64-usr/current/${image}` })).statusCode,
        ).toBe(200);
      } finally {
        await h.close();
      }
    });
  }
});
