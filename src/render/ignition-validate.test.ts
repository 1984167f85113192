import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fcosProfile,
  nodeA,
  sampleProfile,
  seedNodes,
  storageHeavyProfile,
  templateProfile,
} from './fixtures.test-data.js';
import { generator, prng } from './fuzz.test-data.js';
import { renderIgnition3 } from './ignition3.js';
import { renderInstallConfig, renderTargetConfig } from './install.js';
import { validateIgnition } from './validate-ignition.js';

// The real validator: Debian's `ignition` package ships /usr/bin/ignition-validate
// (Ignition 2.14, specs 3.0.0 to 3.3.0). CI installs it; without it the suite says why it skipped.
const binary = '/usr/bin/ignition-validate';
const present = existsSync(binary);
const dir = present ? mkdtempSync(join(tmpdir(), 'kindling-ignition-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function validate(name: string, body: string): { status: number | null; output: string } {
  const file = join(dir, `${name}.ign`);
  writeFileSync(file, body);
  const run = spawnSync(binary, [file], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

const nodeC = seedNodes[2] as typeof nodeA;
const cases: Array<[string, string]> = [
  ...seedNodes.map((n): [string, string] => [`target-${n.name}`, renderTargetConfig(sampleProfile, n).body]),
  ['target-storage-heavy', renderTargetConfig(storageHeavyProfile, nodeA).body],
  ['target-template', renderTargetConfig(templateProfile, nodeC).body],
  ['target-fcos', renderTargetConfig(fcosProfile, nodeA).body],
  ['install-flatcar', renderInstallConfig(sampleProfile, nodeA).body],
  ['install-fcos', renderInstallConfig(fcosProfile, nodeA).body],
];

describe.skipIf(!present)(
  `ignition-validate (${binary}${present ? '' : ' is absent: install the Debian package ignition'})`,
  () => {
    it('is the version the design relies on', () => {
      expect(execFileSync(binary, ['--version'], { encoding: 'utf8' })).toMatch(/Ignition .*2\.\d+/);
    });

    it.each(cases)('accepts %s (spec 3.3.0)', (name, body) => {
      const result = validate(name, body);
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    });

    // The in-process validator and the real one must agree on what Kindling renders:
    // random descriptions that pass in process must pass here without an error.
    it('agrees with the in-process validator on 150 random descriptions', () => {
      const next = generator(prng(0x5eed));
      const ctx = { ...nodeA, token: 't%k&n' };
      for (let i = 0; i < 150; i++) {
        const config = renderIgnition3(next(), ctx);
        expect(validateIgnition(config)).toEqual([]);
        const result = validate(`fuzz-${i}`, JSON.stringify(config));
        // Warnings (an enabled unit without [Install], sticky bits before spec 3.4.0) are the profile's business.
        expect(
          result.output.split('\n').filter((l) => l.startsWith('error')),
          `fuzz case ${i}`,
        ).toEqual([]);
        expect(result.status, `fuzz case ${i}: ${result.output}`).toBe(0);
      }
    });

    it('rejects what the in-process validator rejects (a relative path)', () => {
      const result = validate(
        'broken',
        JSON.stringify({ ignition: { version: '3.3.0' }, storage: { files: [{ path: 'etc/motd' }] } }),
      );
      expect(result.status).not.toBe(0);
    });

    // Ignition 2.x (this binary) parses spec 3 only; spec 2.3.0 configs are read by the
    // Ignition of older Flatcar releases. They are checked in process (validate-ignition.ts)
    // and this test records that the binary cannot check them, so nobody believes it does.
    it('cannot check spec 2.3.0: says so instead of passing it', () => {
      const result = validate('target-v2', renderTargetConfig({ ...sampleProfile, config: 'ignition-v2' }, nodeA).body);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('unsupported config version');
    });
  },
);
