// The network from the page, in Debian's chromium against a real Kindling serving full
// DHCP on a veth interface. Both run inside the test's network namespace: Kindling as a
// child process, chromium through test/webui/chromium.ts's wrapper.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { startNetnsKindling, type NetnsKindling } from '../support/netns-kindling.js';
import { hasChromium, launchChromium } from './chromium.js';
import { ensureWebuiBuilt, repoRoot } from './build.js';

// KINDLING_SCREENSHOTS=1 refreshes docs/screenshots, as in e2e.test.ts.
const shots = process.env['KINDLING_SCREENSHOTS']
  ? path.join(repoRoot, 'docs', 'screenshots')
  : mkdtempSync(path.join(tmpdir(), 'kindling-shots-'));
const password = 'rack-admin-2024';

describe.skipIf(!hasChromium || !canUseNetns())('network settings in chromium', () => {
  let pair: NetnsPair;
  let k: NetnsKindling;
  let browser: Browser;
  let page: Page;
  const net = () => pair.server.ip.split('.').slice(0, 3).join('.');
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

  beforeAll(async () => {
    await ensureWebuiBuilt();
    mkdirSync(shots, { recursive: true });
    pair = createNetnsPair();
    k = await startNetnsKindling(pair, {
      config: {
        dhcp: {
          mode: 'full',
          interface: pair.server.dev,
          range: { start: `${net()}.100`, end: `${net()}.150` },
          router: `${net()}.1`,
          dns: [`${net()}.1`],
          domain: 'rack.test',
        },
      },
    });
    browser = await launchChromium({ ns: pair.server.ns });
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    page.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await k?.stop();
    pair?.destroy();
    if (!process.env['KINDLING_SCREENSHOTS']) rmSync(shots, { recursive: true, force: true });
  });

  it('recommends full DHCP in the wizard when Kindling serves full DHCP', async () => {
    await page.goto(k.httpUrl);
    await page.fill('#pw', password);
    await page.fill('#pw2', password);
    await page.getByRole('button', { name: 'Set password' }).click();
    const rec = page.getByTestId('dhcp-recommendation');
    await rec.waitFor();
    expect(await rec.textContent()).toMatch(/^Recommended: full DHCP\. no other DHCP server answered/);
    expect(await rec.textContent()).not.toMatch(/proxy/);
    expect(await page.getByRole('definition').first().textContent()).toBe(pair.server.dev);
    await shot('wizard-network-full');
    // The same form as in Settings, on the wizard's network step.
    await page.getByText('Change the network (saved to kindling.yaml)').click();
    await expect.poll(() => page.inputValue('#net-end')).toBe(`${net()}.150`);
    expect(await page.inputValue('#net-mode')).toBe('full');
  });

  it(
    'shows a range outside the subnet under its field, then ' + 'saves a good one and DHCP hands it out at once',
    async () => {
      expect((await k.api('PUT', '/api/settings', { setupComplete: true })).status).toBe(200);
      await page.goto(`${k.httpUrl}/#/settings`);
      await page.reload();
      await page.getByRole('heading', { name: 'Network' }).waitFor();
      await expect.poll(() => page.inputValue('#net-start')).toBe(`${net()}.100`);

      await page.fill('#net-start', '10.99.0.10');
      await page.getByRole('button', { name: 'Save network settings' }).click();
      const error = page.locator('#net-start-error');
      await error.waitFor();
      expect(await error.textContent()).toContain(
        `dhcp.range.start "10.99.0.10" is outside the subnet of ${pair.server.dev}`,
      );
      expect(await error.textContent()).toContain(`expected an address in ${net()}.0/24`);
      expect(await page.getAttribute('#net-start', 'aria-invalid')).toBe('true');
      expect(await page.locator('#net-end-error').count()).toBe(0);
      await shot('settings-network-error');
      expect(readFileSync(k.configFile, 'utf8')).not.toContain('10.99.0.10');

      await page.fill('#net-start', `${net()}.160`);
      await page.fill('#net-end', `${net()}.200`);
      await page.getByRole('button', { name: 'Save network settings' }).click();
      await page.getByTestId('network-saved').waitFor();
      expect(await page.getByTestId('network-saved').textContent()).toContain(
        'Saved dhcp.range.start, dhcp.range.end; applied now.',
      );
      expect(await page.getByTestId('dhcp-now').textContent()).toContain(
        `full mode, handing out ${net()}.160–${net()}.200`,
      );
      expect(await page.locator('#net-start-error').count()).toBe(0);
      await shot('settings-network');
      expect(readFileSync(k.configFile, 'utf8')).toContain(`start: ${net()}.160`);
    },
  );
});
