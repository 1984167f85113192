import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory } from '../../src/mirror/import-client.js';
import type { ProgressEvent } from '../../src/mirror/index.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { repoRoot } from '../webui/build.js';
import { FakeUpstream, flatcarNames, makeSigner, sign } from './support/fake-upstream.js';

// A release copied from a USB stick, in upstream's layout, imported into a running
// Kindling through `kindling mirror import`'s client (the same upload API the page uses).
// The fake upstream is never started: the import is offline by construction.

const base = '/mirror/flatcar/stable/amd64-usr';
let upstream: FakeUpstream;
let k: TestKindling;
let work: string;

/** Writes the fake upstream's Flatcar release VERSION as a directory, the way it sits on a stick. */
async function stick(version: string): Promise<string> {
  const dir = path.join(work, `stick-${version}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir);
  const files = await upstream.addFlatcar(version);
  for (const name of flatcarNames) {
    await writeFile(path.join(dir, name), files.get(name) as Buffer);
    await writeFile(
      path.join(dir, `${name}.sig`),
      upstream.files.get(`/stable/amd64-usr/${version}/${name}.sig`) as Buffer,
    );
  }
  await writeFile(path.join(dir, 'version.txt'), upstream.files.get('/stable/amd64-usr/current/version.txt') as Buffer);
  // Sticks carry other images too; they are not uploaded.
  await writeFile(path.join(dir, 'flatcar_production_qemu_image.img.bz2'), Buffer.alloc(4096));
  return dir;
}

function run(dir: string, progress: ProgressEvent[] = []) {
  return importDirectory({ dir, baseUrl: k.httpUrl, token: k.adminToken, onProgress: (e) => progress.push(e) });
}

async function refusal(dir: string): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const err = (await run(dir).then(
    () => null,
    (e: unknown) => e,
  )) as { code: string; message: string; details: Record<string, unknown> } | null;
  expect(err, 'the import must be refused').not.toBeNull();
  return err as { code: string; message: string; details: Record<string, unknown> };
}

/** What a node would see after a refusal: no version but the good one, and nothing left in staging. */
async function nothingHalfPublished(bad: string): Promise<void> {
  expect((await k.get(`${base}/${bad}/flatcar_production_pxe.vmlinuz`)).status).toBe(404);
  const state = (await (await k.api('GET', '/api/mirror')).json()) as {
    running: boolean;
    sources: Array<{ current: string | null; versions: Array<{ version: string }> }>;
  };
  expect(state.running).toBe(false);
  expect(state.sources[0]?.versions.map((v) => v.version)).not.toContain(bad);
  expect(await readdir(path.join(k.dataDir, 'mirror/flatcar/stable/amd64-usr'))).not.toContain(bad);
  const staging = path.join(k.dataDir, 'mirror/.staging');
  expect((await readdir(staging)).filter((n) => n !== '.status.json')).toEqual([]);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kindling-import-'));
  upstream = new FakeUpstream(await makeSigner('flatcar-import'));
  const source = {
    name: 'flatcar-stable',
    os: 'flatcar',
    channel: 'stable',
    arch: 'amd64',
    baseUrl: 'http://127.0.0.1:9/stable',
    keys: upstream.signer.armoredPublic,
  };
  k = await startTestKindling({ config: { mirror: { schedule: null, sources: [source] } } });
});
afterAll(async () => {
  await k?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('kindling mirror import DIR', () => {
  it('verifies and publishes a good copy, which nodes are then served, with progress', async () => {
    const dir = await stick('3815.2.0');
    const progress: ProgressEvent[] = [];
    const outcome = await run(dir, progress);
    expect(outcome).toMatchObject({
      source: 'flatcar-stable',
      ok: true,
      result: 'published',
      version: '3815.2.0',
      via: 'import',
    });
    expect(
      progress
        .filter((p) => p.done)
        .map((p) => p.file)
        .sort(),
    ).toEqual([...flatcarNames.flatMap((n) => [n, `${n}.sig`]), 'version.txt'].sort());
    const txt = await k.get(`${base}/current/version.txt`);
    expect(await txt.text()).toContain('FLATCAR_VERSION=3815.2.0');
    const image = await k.get(`${base}/3815.2.0/flatcar_production_image.bin.bz2`);
    expect(
      Buffer.from(await image.arrayBuffer()).equals(
        upstream.files.get('/stable/amd64-usr/3815.2.0/flatcar_production_image.bin.bz2') as Buffer,
      ),
    ).toBe(true);
    expect((await k.get(`${base}/3815.2.0/flatcar_production_qemu_image.img.bz2`)).status).toBe(404);
  });

  it('refuses a forged signature, naming the file, and keeps serving the good version', async () => {
    const dir = await stick('3815.2.1');
    const forger = await makeSigner('forger');
    const image = path.join(dir, 'flatcar_production_image.bin.bz2');
    await writeFile(`${image}.sig`, await sign(forger, await readFile(image)));
    const err = await refusal(dir);
    expect(err.code).toBe('MIRROR_SIGNATURE');
    expect(err.message).toContain('flatcar_production_image.bin.bz2');
    expect(err.message).toMatch(/not one of the trusted keys/);
    await nothingHalfPublished('3815.2.1');
    expect(await (await k.get(`${base}/current/version.txt`)).text()).toContain('FLATCAR_VERSION=3815.2.0');
  });

  it('refuses a copy with a file missing, naming it', async () => {
    const dir = await stick('3815.2.2');
    await rm(path.join(dir, 'flatcar_production_pxe_image.cpio.gz'));
    const err = await refusal(dir);
    expect(err.code).toBe('MIRROR_IMPORT_MISSING');
    expect(err.details.file).toBe('flatcar_production_pxe_image.cpio.gz');
    expect(err.message).toContain('flatcar_production_pxe_image.cpio.gz is not there');
    await nothingHalfPublished('3815.2.2');
  });

  it('refuses a truncated file (a copy pulled out early), naming it', async () => {
    const dir = await stick('3815.2.3');
    await truncate(path.join(dir, 'flatcar_production_image.bin.bz2'), 300_000);
    const err = await refusal(dir);
    expect(err.code).toBe('MIRROR_SIGNATURE');
    expect(err.details.file).toBe('flatcar_production_image.bin.bz2');
    expect(err.message).toMatch(/bad signature/);
    await nothingHalfPublished('3815.2.3');
    expect(await (await k.get(`${base}/current/version.txt`)).text()).toContain('FLATCAR_VERSION=3815.2.0');
  });

  it('runs as the kindling command, one progress line per file, and exits 1 naming the file on a refusal', async () => {
    const config = path.join(work, 'kindling.yaml');
    await writeFile(config, `dataDir: ${k.dataDir}\nhttp: { listen: 127.0.0.1, port: ${new URL(k.httpUrl).port} }\n`);
    const cli = (dir: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', path.join(repoRoot, 'src/cli.ts'), 'mirror', 'import', dir, '--config', config],
          { cwd: repoRoot, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const good = await cli(await stick('3815.2.4'));
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(
      /flatcar-stable {2}flatcar_production_image\.bin\.bz2 {2}1\.0 MiB \/ 1\.0 MiB {2}100% {2}done/,
    );
    expect(good.stdout).toContain('flatcar-stable: verified and published 3815.2.4');
    const dir = await stick('3815.2.5');
    await rm(path.join(dir, 'flatcar_production_pxe.vmlinuz.sig'));
    const bad = await cli(dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/flatcar_production_pxe\.vmlinuz\.sig is not there.*\[MIRROR_IMPORT_MISSING\]/);
    await nothingHalfPublished('3815.2.5');
  }, 90_000);

  it('keeps the upload API to the admin and to plain file names inside the upload', async () => {
    const anonymous = await k.get('/api/mirror/import', { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const { upload } = (await (await k.api('POST', '/api/mirror/import')).json()) as { upload: string };
    const put = (name: string, auth = true) =>
      k.get(`/api/mirror/import/${upload}/${name}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          ...(auth ? { authorization: `Bearer ${k.adminToken}` } : {}),
        },
        body: 'x',
      });
    expect((await put('version.txt', false)).status).toBe(401);
    for (const name of ['..%2F..%2Fstate%2Fadmin-token', '.hidden', '%2E%2E']) {
      const res = await put(name);
      expect([400, 404]).toContain(res.status);
    }
    expect(await readdir(path.join(k.dataDir, 'mirror/.staging', `.upload-${upload}`))).toEqual([]);
    const stale = await k.get(`/api/mirror/import/${'0'.repeat(16)}/version.txt`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${k.adminToken}` },
      body: 'x',
    });
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { error: { message: string } }).error.message).toMatch(
      /no import upload 0+ is open/,
    );
  });

  it('refuses a directory that is no release of a configured source', async () => {
    const dir = path.join(work, 'empty');
    await mkdir(dir);
    await writeFile(path.join(dir, 'README'), 'photos\n');
    const err = await refusal(dir);
    expect(err.code).toBe('MIRROR_IMPORT_SOURCE');
    expect(err.message).toContain('flatcar-stable: version.txt');
  });
});
