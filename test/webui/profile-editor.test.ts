import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, sharedKey, startTestKindling, type TestKindling } from '../support/kindling.js';
import { hasChromium, launchChromium } from './chromium.js';
import { ensureWebuiBuilt } from './build.js';
import { SessionClient } from './session-client.js';

// The profile editor's two tabs in Debian's chromium against a real Kindling: an edit
// made in the form is in the YAML, an edit made in the YAML is in the form, both ways
// and again, and what the form has no field for survives the trip.

const password = 'rack-admin-2024';
let k: TestKindling;
let browser: Browser;
let page: Page;

const yamlText = () => page.locator('#yaml').inputValue();
const tab = (name: 'Form' | 'YAML') => page.getByRole('tab', { name, exact: true });
const valid = () => expect.poll(() => page.getByTestId('validity').textContent()).toBe('Valid');

describe.skipIf(!hasChromium)('profile editor tabs in chromium', () => {
  beforeAll(async () => {
    await ensureWebuiBuilt();
    k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
    const c = new SessionClient(k);
    await c.setPassword(password);
    await c.json('PUT', '/api/settings', { setupComplete: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.goto(k.httpUrl);
    await page.fill('#password', password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await k?.stop();
  });

  it('carries a form edit into the YAML and a YAML edit into the form, each way twice', async () => {
    await page.goto(`${k.httpUrl}/#/profiles/flatcar-install`);
    await page.getByRole('heading', { name: 'Profile flatcar-install' }).waitFor();
    await expect.poll(() => page.locator('#installDisk').inputValue()).toBe('/dev/sda');

    // Untouched, the YAML tab shows the file as written, comments and all.
    await tab('YAML').click();
    expect(await yamlText()).toBe(flatcarInstallProfile);
    await tab('Form').click();

    // Form → YAML.
    await page.fill('#installDisk', '/dev/vdb');
    await page.fill('#hostname', 'edited-{{name}}');
    await tab('YAML').click();
    await expect.poll(yamlText).toContain('installDisk: /dev/vdb');
    expect(await yamlText()).toContain('hostname: edited-{{name}}');
    expect(await yamlText()).toContain(sharedKey);
    expect(await yamlText()).toContain('/var/lib/docker');

    // YAML → form, with a key the form has no field for and a comment.
    const edited =
      (await yamlText()).replace('installDisk: /dev/vdb', 'installDisk: /dev/nvme0n1') +
      '# kept: serial console\nkernelArgs:\n  - console=ttyS0\n';
    await page.fill('#yaml', edited);
    await valid();
    await tab('Form').click();
    await expect.poll(() => page.locator('#installDisk').inputValue()).toBe('/dev/nvme0n1');
    expect(await page.locator('#hostname').inputValue()).toBe('edited-{{name}}');

    // Back without touching the form: the YAML is exactly what was typed, comment included.
    await tab('YAML').click();
    expect(await yamlText()).toBe(edited);
    await tab('Form').click();

    // A second form edit: the YAML follows, and the key the form does not show is still there.
    await page.fill('#version', '3815.2.0');
    await tab('YAML').click();
    await expect.poll(yamlText).toMatch(/version: ['"]?3815\.2\.0/);
    expect(await yamlText()).toContain('installDisk: /dev/nvme0n1');
    expect(await yamlText()).toContain('console=ttyS0');

    // Saved from the form, the file has every edit from both tabs.
    await tab('Form').click();
    await valid();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved profile flatcar-install.').waitFor();
    expect(k.declarations.profiles.get('flatcar-install')).toMatchObject({
      installDisk: '/dev/nvme0n1',
      hostname: 'edited-{{name}}',
      version: '3815.2.0',
      kernelArgs: ['console=ttyS0'],
    });
    expect(readFileSync(path.join(k.dataDir, 'config', 'profiles', 'flatcar-install.yaml'), 'utf8')).toContain(
      'console=ttyS0',
    );
  });

  it('keeps a YAML that does not parse on its tab, unchanged, and says why', async () => {
    await page.goto(`${k.httpUrl}/#/profiles/flatcar-install`);
    await page.getByRole('heading', { name: 'Profile flatcar-install' }).waitFor();
    await tab('YAML').click();
    await page.fill('#yaml', 'os: [flatcar\n');
    await tab('Form').click();
    await page.getByText('The YAML does not parse, so the form cannot show it; fix it here first.').waitFor();
    expect(await yamlText()).toBe('os: [flatcar\n');
    await page.fill('#yaml', 'os: flatcar\ninstallDisk: /dev/sdc\n');
    await tab('Form').click();
    await expect.poll(() => page.locator('#installDisk').inputValue()).toBe('/dev/sdc');
  });

  it('a new profile: what the form says is the YAML the first time the tab opens', async () => {
    await page.goto(`${k.httpUrl}/#/profiles/new`);
    await page.getByRole('heading', { name: 'New profile' }).waitFor();
    await page.fill('#hostname', 'fresh-{{name}}');
    await tab('YAML').click();
    await expect.poll(yamlText).toContain('hostname: fresh-{{name}}');
    expect(await yamlText()).toContain('installDisk: /dev/sda');
  });
});
