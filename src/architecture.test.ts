import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../test/support/source-files.js';

// The import rule of docs/architecture.md, checked on the real source: every import
// goes to an area of the same or a lower layer, and the pure core (codecs, renderers,
// rules) does no I/O and imports only the pure core.

const src = import.meta.dirname;

/** Layer of each area under src/; lower is closer to the core. */
const layers: Record<string, number> = {
  errors: 0,
  version: 0,
  net: 0,
  store: 1,
  config: 2,
  render: 2,
  inventory: 3,
  settings: 3,
  system: 3,
  dhcp: 4,
  tftp: 4,
  mirror: 4,
  http: 5,
  updates: 5,
  'api-client': 6,
  check: 6,
  cli: 6,
  main: 6,
};

/** Pure modules: functions of bytes and data. A directory stands for all its files. */
const pure = [
  'errors.ts',
  'net',
  'render',
  'config/schema.ts',
  'config/defaults.ts',
  'config/yaml-document.ts',
  'inventory/lifecycle.ts',
  'inventory/mac.ts',
  'inventory/boot-plan.ts',
  'inventory/architectures.ts',
  'inventory/profile.ts',
  'dhcp/pxe-policy.ts',
  'dhcp/packet.ts',
  'dhcp/options.ts',
  'tftp/packet.ts',
  'tftp/options.ts',
  'tftp/netascii.ts',
  'tftp/clip.ts',
  'tftp/request-path.ts',
  'mirror/version-order.ts',
  'settings/host-address.ts',
  'settings/network.ts',
  'system/host-address-protocol.ts',
  'system/nmcli.ts',
  'updates/xml.ts',
  'updates/omaha.ts',
  'updates/decision.ts',
];
/** What a pure module may import from outside src/: no file system, sockets or processes. */
const pureLibraries = new Set(['zod', 'yaml', 'node:crypto', 'node:buffer']);

const files = sourceFiles(src, /\.ts$/)
  .filter((file) => !/\.test(-data)?\.ts$/.test(file))
  .map((file) => path.relative(src, file));
const areaOf = (file: string) => (file.split('/')[0] ?? file).replace(/\.ts$/, '');
/** An unknown area fails the first test; here it counts as the top so it flags nothing twice. */
const layerOf = (file: string) => layers[areaOf(file)] ?? Number.MAX_SAFE_INTEGER;
const isPure = (file: string) => pure.some((p) => file === p || file.startsWith(`${p}/`));

function importsOf(file: string, options: { types: boolean } = { types: true }): string[] {
  const text = readFileSync(path.join(src, file), 'utf8');
  // Static imports and re-exports. A type is a dependency between layers too, but it
  // carries no I/O, so the pure-core check may leave type-only imports out.
  return [...text.matchAll(/^(?:import|export)\s(type\s)?[^;]*?\sfrom\s+'([^']+)'/gms)]
    .filter((m) => options.types || !m[1])
    .map((m) => m[2] as string);
}

function resolve(from: string, specifier: string): string {
  return path.normalize(path.join(path.dirname(from), specifier)).replace(/\.js$/, '.ts');
}

describe('the import rule (docs/architecture.md)', () => {
  it('knows the layer of every area under src/', () => {
    const unknown = [...new Set(files.map(areaOf))].filter((area) => !(area in layers));
    expect(unknown, 'add each new area to `layers` here and to the table in docs/architecture.md').toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolve(file, s))
        .filter((target) => layerOf(target) > layerOf(file) && areaOf(target) in layers)
        .map(
          (target) => `${file} (${areaOf(file)}, layer ${layerOf(file)}) imports ${target} (layer ${layerOf(target)})`,
        ),
    );
    expect(upward).toEqual([]);
  });

  it('keeps the pure core free of I/O and of everything outside it', () => {
    const missing = pure.filter((p) => !files.some((f) => f === p || f.startsWith(`${p}/`)));
    expect(missing, 'a pure module named here does not exist').toEqual([]);
    const leaks = files.filter(isPure).flatMap((file) =>
      importsOf(file, { types: false })
        .filter((s) => (s.startsWith('.') ? !isPure(resolve(file, s)) : !pureLibraries.has(s)))
        .map((s) => `${file} imports ${s}`),
    );
    expect(leaks).toEqual([]);
  });

  it('catches an upward import (the check can fail)', () => {
    const file = 'render/example.ts';
    expect(layerOf(resolve(file, '../http/app.js'))).toBeGreaterThan(layerOf(file));
    expect(isPure(resolve(file, '../store/atomic-file.js'))).toBe(false);
  });
});
