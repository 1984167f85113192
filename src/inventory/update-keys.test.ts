import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Declarations } from './declarations.js';
import { Inventory } from './inventory.js';
import { newRecord } from './machine-record.js';
import { sampleProfile } from './sample.js';

// The update key update.conf carries (SERVER=.../v1/update/?node=KEY): what lets an Omaha
// request from behind NAT find its machine. Stable per machine, replaced by a reinstall,
// gone with a forget, given to records from before keys existed, and found fast.

const mac = '52:54:00:6b:00:01';
const other = '52:54:00:6b:00:02';

async function open(dir: string, machinesYaml = ''): Promise<Inventory> {
  const configDir = path.join(dir, 'config');
  mkdirSync(path.join(configDir, 'profiles'), { recursive: true });
  writeFileSync(path.join(configDir, 'profiles', 'flatcar.yaml'), sampleProfile);
  if (machinesYaml) writeFileSync(path.join(configDir, 'machines.yaml'), machinesYaml);
  const declarations = new Declarations(configDir);
  declarations.reload();
  return Inventory.open({ stateDir: path.join(dir, 'state'), declarations, unknownRule: 'wait' });
}
const dataDir = () => mkdtempSync(path.join(tmpdir(), 'kindling-update-keys-'));

describe('update keys', () => {
  it('a new machine has its own unguessable key, found by lookup and left out of the machine view', async () => {
    const dir = dataDir();
    const inventory = await open(dir);
    await inventory.seen(mac, { lastIp: '10.0.0.5' }, 'test');
    await inventory.seen(other, { lastIp: '10.0.0.6' }, 'test');
    const key = inventory.updateKey(mac);
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(inventory.updateKey(other)).not.toBe(key);
    expect(inventory.updateKey(mac)).toBe(key);
    expect(inventory.macForUpdateKey(key)).toBe(mac);
    expect(inventory.macForUpdateKey(inventory.updateKey(other))).toBe(other);
    expect(JSON.stringify(inventory.list())).not.toContain(key);
    expect(JSON.stringify(inventory.get(mac))).not.toContain(key);
    for (const forged of ['', 'x', key.slice(0, -1), `${key}x`, key.toUpperCase(), '__proto__', 'constructor', mac])
      expect(inventory.macForUpdateKey(forged)).toBeNull();
    expect(() => inventory.updateKey('52:54:00:6b:00:99')).toThrow(/no machine with MAC/);
    await inventory.close();
  });

  it('stays the same across a restart, and a declared machine gets one too', async () => {
    const dir = dataDir();
    const declared = `- { mac: "${other}", name: n2, profile: flatcar }\n`;
    const first = await open(dir, declared);
    await first.seen(mac, {}, 'test');
    const keys = [first.updateKey(mac), first.updateKey(other)];
    await first.close();
    const again = await open(dir, declared);
    expect([again.updateKey(mac), again.updateKey(other)]).toEqual(keys);
    expect(again.macForUpdateKey(keys[1] as string)).toBe(other);
    await again.close();
  });

  it('a reinstall request replaces it: the old key names nothing, now and after a restart', async () => {
    const dir = dataDir();
    const declared = `- { mac: "${mac}", name: n1, profile: flatcar }\n`;
    const inventory = await open(dir, declared);
    await inventory.transition(mac, 'installing', 'test: install boot');
    const before = inventory.updateKey(mac);
    const tokenBefore = inventory.callbackToken(mac, 'target');
    await inventory.requestReinstall(mac);
    const after = inventory.updateKey(mac);
    expect(after).not.toBe(before);
    expect(inventory.callbackToken(mac, 'target')).not.toBe(tokenBefore);
    expect(inventory.macForUpdateKey(before)).toBeNull();
    expect(inventory.macForUpdateKey(after)).toBe(mac);
    await inventory.close();
    const again = await open(dir, declared);
    expect(again.macForUpdateKey(before)).toBeNull();
    expect(again.macForUpdateKey(after)).toBe(mac);
    await again.close();
  });

  it('a refused reinstall (the machine cannot be asked to reinstall yet) keeps the key', async () => {
    const dir = dataDir();
    const inventory = await open(dir, `- { mac: "${mac}", name: n1, profile: flatcar }\n`);
    const key = inventory.updateKey(mac);
    await expect(inventory.requestReinstall(mac)).rejects.toThrow(/cannot become reinstall-requested/);
    expect(inventory.macForUpdateKey(key)).toBe(mac);
    await inventory.close();
  });

  it('a forgotten machine is found by its key no more, and a machine seen again gets a new one', async () => {
    const dir = dataDir();
    const inventory = await open(dir);
    await inventory.seen(mac, {}, 'test');
    const key = inventory.updateKey(mac);
    await inventory.forget(mac);
    expect(inventory.macForUpdateKey(key)).toBeNull();
    await inventory.seen(mac, {}, 'test');
    expect(inventory.updateKey(mac)).not.toBe(key);
    expect(inventory.macForUpdateKey(key)).toBeNull();
    await inventory.close();
    const again = await open(dir);
    expect(again.macForUpdateKey(key)).toBeNull();
    expect(again.macForUpdateKey(again.updateKey(mac))).toBe(mac);
    await again.close();
  });

  it('a record from before update keys gets one at open, written to the journal before it is used', async () => {
    const dir = dataDir();
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    const { updateKey: _none, targetToken: _t, ...old } = newRecord(mac, null, '2026-01-01T00:00:00.000Z');
    writeFileSync(path.join(dir, 'state', 'machines.jsonl'), JSON.stringify({ t: 'machine', r: old }) + '\n');
    const inventory = await open(dir);
    const key = inventory.updateKey(mac);
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(inventory.macForUpdateKey(key)).toBe(mac);
    expect(inventory.callbackToken(mac, 'install')).toBe(old.token);
    // Durable at open, not at the next change: a config rendered now names the key the next start keeps.
    expect(readFileSync(path.join(dir, 'state', 'machines.jsonl'), 'utf8')).toContain(`"updateKey":"${key}"`);
    await inventory.close();
    const again = await open(dir);
    expect(again.updateKey(mac)).toBe(key);
    await again.close();
  });

  it('finds a key among 10,000 machines in well under a millisecond', async () => {
    const dir = dataDir();
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    const macs = Array.from(
      { length: 10_000 },
      (_, i) => `52:54:01:${[i >> 8, i & 255, 7].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
    );
    const lines = macs.map((m) => JSON.stringify({ t: 'machine', r: newRecord(m, null, '2026-01-01T00:00:00.000Z') }));
    writeFileSync(path.join(dir, 'state', 'machines.jsonl'), lines.join('\n') + '\n');
    const inventory = await open(dir);
    const keys = macs.map((m) => inventory.updateKey(m));
    const forged = keys.map((k) => `${k.slice(0, -1)}${k.endsWith('A') ? 'B' : 'A'}`);
    let found = 0;
    let refused = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < keys.length; i++) {
      if (inventory.macForUpdateKey(keys[i] as string) === macs[i]) found++;
      if (inventory.macForUpdateKey(forged[i] as string) === null) refused++;
    }
    const perLookupMs = Number(process.hrtime.bigint() - started) / 1e6 / (2 * keys.length);
    expect([found, refused]).toEqual([10_000, 10_000]);
    expect(perLookupMs).toBeLessThan(0.1);
    await inventory.close();
  });
});
