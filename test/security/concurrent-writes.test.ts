import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestKindling, type TestKindling } from '../support/kindling.js';

// The audit's lost updates: 20 concurrent assigns all answered 200 and 4 survived.
// Here every acknowledged change must be in machines.yaml and survive a restart.

const macOf = (i: number) =>
  `52:54:00:c0:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

let k: TestKindling | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

function declaredMacs(dataDir: string): string[] {
  const list = (parse(readFileSync(path.join(dataDir, 'config', 'machines.yaml'), 'utf8')) ?? []) as Array<{
    mac: string;
  }>;
  return list.map((m) => m.mac).sort();
}

describe('concurrent admin writes', () => {
  it(
    '50 concurrent assigns, then 25 forgets racing 25 new assigns: every ' +
      'acknowledged change is on disk and after a restart',
    async () => {
      k = await startTestKindling();
      const first = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          k!.api('POST', `/api/machines/${macOf(i)}/assign`, { profile: 'flatcar-install', name: `node-${i}` }),
        ),
      );
      expect(first.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(declaredMacs(k.dataDir)).toEqual(Array.from({ length: 50 }, (_, i) => macOf(i)).sort());

      const mixed = await Promise.all([
        ...Array.from({ length: 25 }, (_, i) => k!.api('DELETE', `/api/machines/${macOf(i)}`)),
        ...Array.from({ length: 25 }, (_, i) =>
          k!.api('POST', `/api/machines/${macOf(100 + i)}/assign`, { profile: 'flatcar-install', name: `late-${i}` }),
        ),
      ]);
      expect(mixed.map((r) => r.status)).toEqual(Array(50).fill(200));
      const expected = [
        ...Array.from({ length: 25 }, (_, i) => macOf(25 + i)),
        ...Array.from({ length: 25 }, (_, i) => macOf(100 + i)),
      ].sort();
      expect(declaredMacs(k.dataDir)).toEqual(expected);
      expect(
        k.inventory
          .list()
          .map((m) => m.mac)
          .sort(),
      ).toEqual(expected);

      const dataDir = k.dataDir;
      await k.close();
      k = await startTestKindling({ dataDir });
      const { machines } = (await (await k.api('GET', '/api/machines')).json()) as {
        machines: Array<{ mac: string; name: string; state: string }>;
      };
      expect(machines.map((m) => m.mac).sort()).toEqual(expected);
      expect(machines.find((m) => m.mac === macOf(100))).toMatchObject({ name: 'late-0', state: 'assigned' });
    },
  );

  it('a forget cut short between its two files is finished at the next start', async () => {
    k = await startTestKindling({
      files: { 'machines.yaml': `- { mac: "${macOf(7)}", name: half, profile: flatcar-install }\n` },
    });
    // The state a crash leaves after the first of forget's writes: the record marked, machines.yaml untouched.
    const stateFile = path.join(k.dataDir, 'state', 'machines.jsonl');
    const marked = { ...k.inventory.get(macOf(7))!, forgetting: true };
    const dataDir = k.dataDir;
    await k.close();
    const { appendFileSync } = await import('node:fs');
    appendFileSync(stateFile, `${JSON.stringify({ t: 'machine', r: marked })}\n`);
    k = await startTestKindling({ dataDir });
    expect(k.inventory.get(macOf(7))).toBeNull();
    expect(declaredMacs(dataDir)).toEqual([]);
  });

  it("concurrent settings saves each keep the other's keys", async () => {
    k = await startTestKindling();
    const keys = Array.from(
      { length: 10 },
      (_, i) =>
        `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3kPmkz0l0bKcD8zUe1kq8n3u3Zp9oN0w1v2yVb6c${'ABCDEFGHIJ'[i]} op${i}@rack`,
    );
    const saves = await Promise.all([
      k.api('PUT', '/api/settings', { sshKeys: keys }),
      k.api('PUT', '/api/settings', { unknownRule: { profile: 'flatcar-install', name: 'rack-{{n}}' } }),
    ]);
    expect(saves.map((r) => r.status)).toEqual([200, 200]);
    const { settings } = (await (await k.api('GET', '/api/settings')).json()) as {
      settings: { sshKeys: string[]; unknownRule: unknown };
    };
    expect(settings.sshKeys).toHaveLength(10);
    expect(settings.unknownRule).toEqual({ profile: 'flatcar-install', name: 'rack-{{n}}' });
  });

  it('four racing first-boot password calls: exactly one wins, and only its password logs in', async () => {
    k = await startTestKindling();
    const passwords = ['first-password-a', 'first-password-b', 'first-password-c', 'first-password-d'];
    const answers = await Promise.all(
      passwords.map((password) =>
        k!.get('/api/setup/password', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password }),
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    const winner = passwords[statuses.indexOf(200)]!;
    const logins = await Promise.all(
      passwords.map((password) =>
        k!.get('/api/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password }),
        }),
      ),
    );
    expect(logins.map((r, i) => [passwords[i], r.status])).toEqual(passwords.map((p) => [p, p === winner ? 200 : 401]));
  });

  it('a refused reinstall (409) leaves the callback token as it was', async () => {
    k = await startTestKindling({
      files: { 'machines.yaml': `- { mac: "${macOf(9)}", name: keep, profile: flatcar-install }\n` },
    });
    const before = k.inventory.get(macOf(9))!;
    const token = k.inventory.callbackToken(macOf(9), 'install');
    expect(before.state).toBe('assigned');
    const res = await k.api('POST', `/api/machines/${macOf(9)}/reinstall`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TRANSITION_INVALID');
    expect(k.inventory.callbackToken(macOf(9), 'install')).toBe(token);
  });
});
