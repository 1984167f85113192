import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, sharedKey, startTestKindling, type TestKindling } from '../support/kindling.js';
import { hasChromium, launchChromium } from './chromium.js';
import { ensureWebuiBuilt, repoRoot } from './build.js';

// The setup page end to end: Debian's chromium (headless, through playwright-core)
// against a real Kindling on an ephemeral port. One story, in order: the wizard, log
// out and in, a machine appears when it asks for /ipxe, is assigned and walks
// through its states live, and a bad SSH key is refused at the field.

// KINDLING_SCREENSHOTS=1 refreshes docs/screenshots; otherwise they go to a temp
// directory, so a test run leaves the tracked files alone.
const shots = process.env['KINDLING_SCREENSHOTS']
  ? path.join(repoRoot, 'docs', 'screenshots')
  : mkdtempSync(path.join(tmpdir(), 'kindling-shots-'));
const password = 'rack-admin-2024';
const mac = '52:54:00:ab:cd:01';

let k: TestKindling;
let browser: Browser;
let page: Page;

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

describe.skipIf(!hasChromium)('setup page in chromium', () => {
  beforeAll(async () => {
    await ensureWebuiBuilt();
    mkdirSync(shots, { recursive: true });
    k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
    page.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await k?.stop();
    if (!process.env['KINDLING_SCREENSHOTS']) rmSync(shots, { recursive: true, force: true });
  });

  it('serves the page itself with a strict content security policy', async () => {
    const res = await k.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere: the rack has no internet
  });

  it('runs the first-boot wizard', async () => {
    await page.goto(k.httpUrl);
    await page.getByRole('heading', { name: 'Set up Kindling' }).waitFor();
    await shot('wizard-password');
    await page.fill('#pw', password);
    await page.fill('#pw2', password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByTestId('dhcp-recommendation').waitFor();
    expect(await page.getByTestId('dhcp-recommendation').textContent()).toMatch(/DHCP/);
    await shot('wizard-network');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.selectOption('#channel', 'beta');
    await page.getByRole('button', { name: 'Next' }).click();

    // A bad SSH key is refused at the field, as you type, by the server's schema.
    await page.fill('#keys', 'ssh-ed25519 this-is-not-base64!! me@laptop');
    await page.getByText(/Line 1 .*expected an SSH public key/).waitFor();
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await shot('wizard-ssh-key-error');
    await page.fill('#keys', sharedKey);
    await expect.poll(() => page.getByRole('button', { name: 'Next' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.fill('#pname', 'rack-default');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Summary' }).waitFor();
    await shot('wizard-summary');
    await page.getByRole('button', { name: /Finish/ }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    expect(k.declarations.profiles.get('rack-default')).toMatchObject({
      channel: 'beta',
      users: [{ name: 'core', sshAuthorizedKeys: [sharedKey] }],
    });
    expect(k.settings.current).toMatchObject({
      setupComplete: true,
      defaultProfile: 'rack-default',
      unknownRule: 'wait',
      sshKeys: [sharedKey],
    });
    expect(k.settings.mirrorSources()[0]).toMatchObject({ os: 'flatcar', channel: 'beta', arch: 'amd64' });
    await page.getByTestId('service-http').waitFor();
    await shot('dashboard');
  });

  it('logs out and back in, refusing a wrong password', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Admin password').waitFor();
    await page.fill('#password', 'not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(/wrong password/).waitFor();
    await shot('login');
    await page.fill('#password', password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('shows a machine appear when it asks for /ipxe, and its states change live as it installs', async () => {
    await page.goto(`${k.httpUrl}/#/machines`);
    await page.getByRole('heading', { name: 'Machines' }).waitFor();
    await page.getByText('Live: updates as machines boot.').waitFor();
    const row = page.locator(`tr[data-mac="${mac}"]`);
    expect(await row.count()).toBe(0);

    expect((await k.get(`/ipxe?mac=${mac}&arch=x86_64&platform=efi&uuid=0f5a`)).status).toBe(200);
    await row.waitFor();
    expect(await row.getByTestId('state').textContent()).toBe('discovered');

    await row.getByRole('button', { name: 'Assign' }).click();
    await row.locator('select').selectOption('flatcar-install');
    await row.locator('input').fill('a-coreos');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => row.getByTestId('state').textContent()).toBe('assigned');

    // The node boots again: install boot, then its installer calls back. No reload.
    await k.get(`/ipxe?mac=${mac}&arch=x86_64&platform=efi`);
    await expect.poll(() => row.getByTestId('state').textContent()).toBe('installing');
    await shot('machines');
    const token = k.inventory.callbackToken(mac, 'install');
    expect((await k.get(`/callback/installed?mac=${mac}&token=${token}`, { method: 'POST' })).status).toBe(200);
    await expect.poll(() => row.getByTestId('state').textContent()).toBe('installed');
    expect(await row.textContent()).toContain('a-coreos');

    await row.getByRole('link', { name: mac }).click();
    await page.getByRole('heading', { name: 'a-coreos' }).waitFor();
    await expect.poll(() => page.getByTestId('rendered').textContent()).toMatch(/^#!ipxe/);
    await page.getByLabel('ignition').check();
    await expect.poll(() => page.getByTestId('rendered').textContent()).toMatch(/"version": ?"3\.3\.0"/);
    expect(await page.getByTestId('rendered').textContent()).not.toContain(token);
    await shot('machine');

    // The dashboard counts it and lists its last events.
    await page.goto(`${k.httpUrl}/#/`);
    await expect.poll(() => page.getByTestId('count-installed').textContent()).toBe('installed: 1');
    await page.locator('main li', { hasText: 'install' }).first().waitFor();
    await shot('dashboard');
  });

  it('edits a profile with validation at the field and a preview', async () => {
    await page.goto(`${k.httpUrl}/#/profiles`);
    await page.getByRole('link', { name: 'rack-default' }).waitFor();
    await shot('profiles');
    await page.getByRole('link', { name: 'rack-default' }).click();
    await page.getByRole('heading', { name: 'Profile rack-default' }).waitFor();
    await expect.poll(() => page.getByTestId('validity').textContent()).toBe('Valid');
    await page.fill('#u0-keys', `${sharedKey}\nssh-rsa AAAA!!bad`);
    await page.getByText(/Line 2 .*expected an SSH public key/).waitFor();
    await page.fill('#installDisk', 'sda');
    await page.getByText('expected a device path such as /dev/sda').waitFor();
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await shot('profile-editor-errors');
    await page.fill('#u0-keys', sharedKey);
    await page.fill('#installDisk', '/dev/vda');
    await expect.poll(() => page.getByTestId('validity').textContent()).toBe('Valid');
    await page.selectOption('#pas', 'ignition');
    await page.getByRole('button', { name: 'Render' }).click();
    await expect.poll(() => page.getByTestId('preview').textContent()).toContain(sharedKey);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved profile rack-default.').waitFor();
    expect(k.declarations.profiles.get('rack-default')?.installDisk).toBe('/dev/vda');
    await shot('profile-editor');
  });

  it('shows the mirror view, degrading when there is no mirror', async () => {
    await page.goto(`${k.httpUrl}/#/mirror`);
    await page.getByRole('heading', { name: 'Mirror' }).waitFor();
    await page
      .locator('main')
      .getByText(/Mirror not available|Schedule/)
      .first()
      .waitFor();
    await shot('mirror');
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${k.httpUrl}/#/machines`);
    await page.locator(`tr[data-mac="${mac}"]`).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('phone-machines');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });
});
