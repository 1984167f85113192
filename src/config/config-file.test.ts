import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeConfigKeys } from './config-file.js';

// The operator's kindling.yaml after a save from the page: their comments, order and
// other keys as they wrote them; a change that would not load leaves the file alone.

const original = `# Rack 3, edited by hand.
dataDir: /var/lib/kindling
dhcp:
  mode: proxy # the site's router serves addresses
  range:
    start: 10.77.0.100 # first node
    end: 10.77.0.250
# mirror settings below
mirror:
  schedule: null
`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeConfigKeys', () => {
  it('changes only the keys given and keeps every comment', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kindling-config-file-'));
    const file = path.join(dir, 'kindling.yaml');
    writeFileSync(file, original);
    const next = await writeConfigKeys(file, [
      { path: ['dhcp', 'mode'], value: 'full' },
      { path: ['dhcp', 'range', 'start'], value: '10.77.0.120' },
      { path: ['dhcp', 'range', 'end'], value: '10.77.0.200' },
      { path: ['dhcp', 'dns'], value: ['10.77.0.1', '10.77.0.2'] },
    ]);
    expect(next.dhcp).toMatchObject({
      mode: 'full',
      range: { start: '10.77.0.120', end: '10.77.0.200' },
      dns: ['10.77.0.1', '10.77.0.2'],
    });
    const text = readFileSync(file, 'utf8');
    for (const kept of [
      '# Rack 3, edited by hand.',
      "mode: full # the site's router serves addresses",
      'start: 10.77.0.120 # first node',
      '# mirror settings below',
      'schedule: null',
    ])
      expect(text).toContain(kept);
    expect(text).not.toContain('10.77.0.250');
  });

  it('refuses a change that would not load, naming the key, and leaves the file as it was', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kindling-config-file-'));
    const file = path.join(dir, 'kindling.yaml');
    writeFileSync(file, original);
    await expect(writeConfigKeys(file, [{ path: ['dhcp', 'mode'], value: 'sometimes' }])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('key "dhcp.mode"'),
    });
    expect(readFileSync(file, 'utf8')).toBe(original);
  });
});
