// The Pi's own address from the page, as an operator does it in Debian's chromium: in
// Settings they ask for a new address, the root-side helper tries it, they open the page
// at the new address (a new origin, so they log in again) and keep it there. Kindling
// and chromium run in the test's namespace; the helper's NetworkManager is the stand-in
// of test/support/host-address-helper.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAddressRig, type HostAddressRig } from '../support/host-address-helper.js';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { startNetnsKindling, type NetnsKindling } from '../support/netns-kindling.js';
import { ensureWebuiBuilt, repoRoot } from './build.js';
import { hasChromium, launchChromium } from './chromium.js';

// KINDLING_SCREENSHOTS=1 refreshes docs/screenshots, as in e2e.test.ts.
const shots = process.env['KINDLING_SCREENSHOTS']
  ? path.join(repoRoot, 'docs', 'screenshots')
  : mkdtempSync(path.join(tmpdir(), 'kindling-shots-'));
const password = 'rack-admin-2024';

describe.skipIf(!hasChromium || !canUseNetns())("this machine's address in chromium", () => {
  let pair: NetnsPair;
  let rig: HostAddressRig;
  let k: NetnsKindling;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');

  beforeAll(async () => {
    await ensureWebuiBuilt();
    mkdirSync(shots, { recursive: true });
    pair = createNetnsPair();
    rig = hostAddressRig(pair);
    k = await startNetnsKindling(pair, { config: rig.kindlingConfig });
    browser = await launchChromium({ ns: pair.server.ns });
    // The certificate is self-signed, as on the appliance; the operator accepted it once.
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 1100 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await k?.stop();
    pair?.destroy();
    rig?.remove();
    if (!process.env['KINDLING_SCREENSHOTS']) rmSync(shots, { recursive: true, force: true });
  });

  it('tries a new address from Settings and keeps it from the page at that address', async () => {
    await page.goto(k.httpUrl);
    await page.fill('#pw', password);
    await page.fill('#pw2', password);
    await page.getByRole('button', { name: 'Set password' }).click();
    // The wizard's next step: the password is set and this page has its session.
    await page.getByTestId('dhcp-recommendation').waitFor();
    expect((await k.api('PUT', '/api/settings', { setupComplete: true })).status).toBe(200);
    await page.goto(`${k.httpUrl}/#/settings`);
    await page.reload();
    await page.getByRole('heading', { name: "This machine's address" }).waitFor();
    await expect.poll(() => page.inputValue('#ha-address')).toBe(`${pair.server.ip}/24`);
    expect(await page.getByTestId('host-address-now').textContent()).toContain(
      `${pair.server.dev} has ${pair.server.ip}/24`,
    );

    // A mistake is shown under its field, and nothing is tried.
    await page.fill('#ha-address', `${net()}.255/24`);
    await page.getByRole('button', { name: 'Try this address' }).click();
    await page.locator('#ha-address-error').waitFor();
    expect(await page.locator('#ha-address-error').textContent()).toContain('network or broadcast address');

    await page.fill('#ha-address', `${net()}.7/24`);
    await page.fill('#ha-confirm', '120');
    await page.getByRole('button', { name: 'Try this address' }).click();
    const helper = rig.run(k.dataDir);
    const waiting = page.getByTestId('host-address-waiting');
    await waiting.waitFor();
    await expect.poll(() => waiting.textContent()).toMatch(new RegExp(`Trying ${net()}\\.7/24 on ${pair.server.dev}`));
    const link = waiting.getByRole('link').first();
    const newPage = (await link.getAttribute('href')) as string;
    expect(newPage).toBe(`https://${net()}.7:${new URL(k.httpsUrl).port}/#/settings`);
    await page.screenshot({ path: path.join(shots, 'settings-host-address-trying.png') });

    // At the new address: another origin, so another session.
    const there = await context.newPage();
    await there.goto(newPage);
    await there.fill('#password', password);
    await there.getByRole('button', { name: 'Log in' }).click();
    const keep = there.getByRole('button', { name: `Keep ${net()}.7/24` });
    await keep.waitFor();
    await there.screenshot({ path: path.join(shots, 'settings-host-address-keep.png') });
    await keep.click();
    await there.getByTestId('host-address-kept').waitFor();
    expect(await there.getByTestId('host-address-kept').textContent()).toContain('Kindling restarts in a moment');

    expect(await helper).toMatchObject({ code: 0 });
    expect(readFileSync(rig.profileFile, 'utf8')).toBe(`manual ${net()}.7/24\n`);
    expect(readFileSync(k.configFile, 'utf8')).toContain(`advertise: ${net()}.7`);
  }, 120_000);
});
