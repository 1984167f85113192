import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, flatcarNames, makeSigner, sign } from '../mirror/support/fake-upstream.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { hasChromium, launchChromium } from './chromium.js';
import { ensureWebuiBuilt, repoRoot } from './build.js';

// The Mirror page's import in Debian's chromium: the operator picks the files of a
// release copied from a stick; a good copy is published, a forged one is refused with
// the file and the reason, shown on the page.

const shots = process.env['KINDLING_SCREENSHOTS']
  ? path.join(repoRoot, 'docs', 'screenshots')
  : mkdtempSync(path.join(tmpdir(), 'kindling-shots-'));
const work = mkdtempSync(path.join(tmpdir(), 'kindling-page-import-'));
let k: TestKindling;
let upstream: FakeUpstream;
let browser: Browser;
let page: Page;

async function stick(version: string): Promise<string[]> {
  const dir = path.join(work, version);
  await mkdir(dir);
  const files = await upstream.addFlatcar(version);
  const paths = [path.join(dir, 'version.txt')];
  await writeFile(paths[0] as string, upstream.files.get('/stable/amd64-usr/current/version.txt') as Buffer);
  for (const name of flatcarNames) {
    await writeFile(path.join(dir, name), files.get(name) as Buffer);
    await writeFile(
      path.join(dir, `${name}.sig`),
      upstream.files.get(`/stable/amd64-usr/${version}/${name}.sig`) as Buffer,
    );
    paths.push(path.join(dir, name), path.join(dir, `${name}.sig`));
  }
  return paths;
}

describe.skipIf(!hasChromium)('Mirror page import', () => {
  beforeAll(async () => {
    await ensureWebuiBuilt();
    upstream = new FakeUpstream(await makeSigner('flatcar-page'));
    const source = {
      name: 'flatcar-stable',
      os: 'flatcar',
      channel: 'stable',
      arch: 'amd64',
      baseUrl: 'http://127.0.0.1:9/stable',
      keys: upstream.signer.armoredPublic,
    };
    k = await startTestKindling({ config: { mirror: { schedule: null, sources: [source] } } });
    await k.settings.update({ setupComplete: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(15_000);
    // The first-boot password, set the way the wizard does; its session cookie logs the page in.
    expect(
      (await page.request.post(`${k.httpUrl}/api/setup/password`, { data: { password: 'rack-admin-2024' } })).ok(),
    ).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await k?.stop();
    rmSync(work, { recursive: true, force: true });
    if (!process.env['KINDLING_SCREENSHOTS']) rmSync(shots, { recursive: true, force: true });
  });

  it('publishes a good copy and shows it as current', async () => {
    await page.goto(`${k.httpUrl}/#/mirror`);
    await page.getByRole('heading', { name: 'Import from a USB stick' }).waitFor();
    await page.getByTestId('import-files').setInputFiles(await stick('3815.2.0'));
    await page.getByRole('button', { name: /Import 9 files/ }).click();
    await page.getByText('Imported flatcar-stable 3815.2.0: verified and published.').waitFor();
    await page.getByText(/current: 3815\.2\.0/).waitFor();
    await page.getByText(/Last import .*published 3815\.2\.0/).waitFor();
    expect((await k.get('/mirror/flatcar/stable/amd64-usr/current/version.txt')).status).toBe(200);
    await page.screenshot({ path: path.join(shots, 'mirror-import.png') });
  });

  it('refuses a forged copy, showing the file and the reason', async () => {
    const files = await stick('3815.2.1');
    const image = files.find((f) => f.endsWith('flatcar_production_image.bin.bz2')) as string;
    await writeFile(`${image}.sig`, await sign(await makeSigner('forger'), await readFile(image)));
    await page.getByTestId('import-files').setInputFiles(files);
    await page.getByRole('button', { name: /Import 9 files/ }).click();
    const error = page.getByTestId('import-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      new RegExp(
        /flatcar_production_image\.bin\.bz2: signed by key ID [0-9A-F]+, /.source +
          /which is not one of the trusted keys .*\[MIRROR_SIGNATURE\]/.source,
      ),
    );
    expect((await k.get('/mirror/flatcar/stable/amd64-usr/3815.2.1/version.txt')).status).toBe(404);
    await page.screenshot({ path: path.join(shots, 'mirror-import-refused.png') });
  });
});
