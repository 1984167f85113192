import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '../support/prng.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { rawRequest } from './support/raw-http.js';

// The audit: 20,000 random MACs via /ipxe grew machines.json to 9 MB, and each new
// MAC rewrote the whole document (1,000 more wrote 950 MB to the SD card). Now
// undeclared machines are capped, discovery is rate-limited per source, each new
// machine appends one journal line, and a declared machine boots as before.

const declared = '52:54:00:de:c1:a0';
const late = '52:54:00:de:c1:a1';
const limits = { maxDiscovered: 300, discoveryPerMinute: 20 };
const config = { machines: { unknown: 'wait', ...limits } };
const files = { 'machines.yaml': `- { mac: "${declared}", name: keeper, profile: flatcar-install }\n` };

let k: TestKindling | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

const random = prng(13);
const hex = () =>
  Math.floor(random() * 256)
    .toString(16)
    .padStart(2, '0');
/** Locally administered unicast MACs, as a spoofing client would make them up. */
const randomMac = () => `02:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`;

/** Runs `count` requests, `width` at a time; each finishes (or fails the test) within its timeout. */
async function pool<T>(count: number, width: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

const ipxe = (mac: string, from: string) =>
  rawRequest(k!.httpUrl, 'GET', `/ipxe?mac=${mac}&arch=x86_64&platform=efi`, { localAddress: from, timeoutMs: 10_000 });

async function undeclaredCount(): Promise<number> {
  const { machines } = (await (await k!.api('GET', '/api/machines')).json()) as {
    machines: Array<{ declared: boolean }>;
  };
  return machines.filter((m) => !m.declared).length;
}

/** Every file under dir with its mode, relative names. */
function walk(dir: string, base = dir): Array<{ name: string; mode: number; dir: boolean }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    const entry = { name: path.relative(base, full), mode: statSync(full).mode & 0o777, dir: e.isDirectory() };
    return e.isDirectory() ? [entry, ...walk(full, base)] : [entry];
  });
}

describe('a flood of unknown MACs on /ipxe', () => {
  it(
    'stops recording at machines.maxDiscovered, rate-limits one ' + 'source, and a declared machine still installs',
    async () => {
      k = await startTestKindling({ files, config });
      const stateDir = path.join(k.dataDir, 'state');
      const before = k.inventory.journalStats();
      const eventsBefore = statSync(path.join(stateDir, 'events.jsonl'), { throwIfNoEntry: false })?.size ?? 0;

      // One source, 60 new MACs: its bucket holds 20, so most are answered but not recorded.
      const one = await pool(60, 4, () => ipxe(randomMac(), '127.0.0.2'));
      expect(one.map((r) => r.status)).toEqual(Array(60).fill(200));
      const afterOne = await undeclaredCount();
      expect(afterOne).toBeGreaterThanOrEqual(20);
      expect(afterOne).toBeLessThan(40);
      const limited = one.filter((r) => r.body.includes('machines.discoveryPerMinute'));
      expect(limited.length).toBe(60 - afterOne);
      expect(limited[0]!.body).toMatch(/^#!ipxe\n/);
      expect(limited[0]!.body).toContain('chain --autofree --replace'); // it waits and asks again

      // 3,000 MACs from 200 sources (4,000 tokens in all): the cap is what stops them.
      let declaredBoots = 0;
      const flood = await pool(3000, 48, async (i) => {
        if (i % 500 === 0) {
          const boot = await ipxe(declared, '127.0.1.1');
          if (boot.status === 200 && boot.body.includes('kernel ') && !boot.body.includes('Asking again'))
            declaredBoots++;
        }
        return ipxe(randomMac(), `127.0.0.${3 + (i % 200)}`);
      });
      expect(flood.every((r) => r.status === 200 && r.body.startsWith('#!ipxe'))).toBe(true);
      expect(declaredBoots).toBe(6);
      expect(await undeclaredCount()).toBe(limits.maxDiscovered);
      const capped = flood.filter((r) => r.body.includes('machines.maxDiscovered'));
      expect(capped.length).toBeGreaterThan(2000);
      expect(capped[0]!.body).toContain('declare this MAC in machines.yaml');

      // Declared machines are never capped: one the admin assigns now is recorded and boots.
      expect(
        (await k.api('POST', `/api/machines/${late}/assign`, { profile: 'flatcar-install', name: 'late' })).status,
      ).toBe(200);
      const lateBoot = await ipxe(late, '127.0.0.2');
      expect(lateBoot.body).toContain('kernel ');
      expect(k.inventory.get(late)?.state).toBe('installing');

      // One warning per reason in the event history for the whole flood, not one per refused MAC.
      const { events } = (await (await k.api('GET', '/api/events?limit=2000')).json()) as {
        events: Array<{ type: string; message: string }>;
      };
      const warnings = events.filter((e) => e.type === 'discovery-refused').map((e) => e.message);
      expect(warnings.filter((m) => m.includes('machines.maxDiscovered')).length).toBeGreaterThanOrEqual(1);
      expect(warnings.filter((m) => m.includes('machines.discoveryPerMinute')).length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(4); // one per reason a minute; the flood takes seconds

      // Bytes: one journal line per new machine, against a whole-document rewrite per MAC.
      await k.inventory.flush();
      const stats = k.inventory.journalStats();
      const recorded = limits.maxDiscovered + 1; // and the late assign
      const journalBytes = stats.bytes + stats.compactedBytes - (before.bytes + before.compactedBytes);
      const eventBytes = statSync(path.join(stateDir, 'events.jsonl')).size - eventsBefore;
      const perMachine = (journalBytes + eventBytes) / recorded;
      expect(perMachine).toBeLessThan(4096);
      const records = k.inventory.list().map((m) => JSON.stringify({ ...m, name: undefined, profile: undefined }));
      let wholeDocument = 0;
      let size = 0;
      for (const r of records) wholeDocument += size += r.length; // the old format's size after each new machine
      expect(journalBytes + eventBytes).toBeLessThan(wholeDocument / 20);

      // State files are owner-only; the state directory too.
      expect(
        (
          await k.get('/api/setup/password', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ password: 'flood-test-password' }),
          })
        ).status,
      ).toBe(200);
      expect((await k.api('PUT', '/api/settings', { unknownRule: 'wait' })).status).toBe(200);
      await k.inventory.flush();
      const entries = walk(stateDir);
      const names = entries.map((e) => e.name);
      for (const expected of [
        'machines.jsonl',
        'events.jsonl',
        'admin-token',
        'settings.json',
        'admin-password.json',
        path.join('tls', 'key.pem'),
      ])
        expect(names).toContain(expected);
      const publicFiles = new Set([path.join('tls', 'cert.pem'), path.join('tls', 'fingerprint')]);
      const loose = entries
        .filter((e) => !publicFiles.has(e.name) && e.mode !== (e.dir ? 0o700 : 0o600))
        .map((e) => `${e.name} ${e.mode.toString(8)}`);
      expect(loose).toEqual([]);
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);

      // Everything recorded survives a restart, tokens included; the cap still holds.
      const someone = k.inventory.list().find((m) => !m.declared)!;
      const tokens = [
        k.inventory.callbackToken(someone.mac, 'install'),
        k.inventory.callbackToken(someone.mac, 'target'),
      ];
      const dataDir = k.dataDir;
      await k.close();
      // As an older version left them: world-readable. The next start tightens them.
      for (const f of ['machines.jsonl', 'events.jsonl']) chmodSync(path.join(stateDir, f), 0o644);
      chmodSync(stateDir, 0o755);
      k = await startTestKindling({ dataDir, config });
      expect(walk(stateDir).filter((e) => !e.dir && !publicFiles.has(e.name) && e.mode !== 0o600)).toEqual([]);
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(await undeclaredCount()).toBe(limits.maxDiscovered);
      expect([
        k.inventory.callbackToken(someone.mac, 'install'),
        k.inventory.callbackToken(someone.mac, 'target'),
      ]).toEqual(tokens);
      expect(k.inventory.get(late)?.state).toBe('installing');
      expect((await ipxe(randomMac(), '127.0.0.250')).body).toContain('machines.maxDiscovered');
      expect((await ipxe(declared, '127.0.0.250')).body).toContain('kernel ');
      expect(readFileSync(path.join(stateDir, 'machines.jsonl'), 'utf8').endsWith('\n')).toBe(true);
    },
    120_000,
  );
});
