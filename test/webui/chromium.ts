import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

// Debian's chromium for the page's tests, headless and quiet (no update checks, no sync,
// no QUIC), so it sends nothing but what a test asks for. With `ns`, it runs inside that
// network namespace through a wrapper; playwright drives it over a pipe, so nothing
// crosses the namespace boundary but that pipe.

export const chromiumPath = '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

export async function launchChromium(options: { ns?: string } = {}): Promise<Browser> {
  let executablePath = chromiumPath;
  let wrapperDir: string | null = null;
  if (options.ns) {
    wrapperDir = mkdtempSync(path.join(tmpdir(), 'kindling-chromium-'));
    executablePath = path.join(wrapperDir, 'chromium');
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${options.ns} ${chromiumPath} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  if (wrapperDir) {
    const dir = wrapperDir;
    browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  }
  return browser;
}
