import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyHostAddress } from './host-address-helper.js';

// The root side, on real files, with a NetworkManager that records what it was asked and
// a clock that moves only when the helper sleeps. The real NetworkManager is exercised by
// the appliance boot test (image-build/test-rootfs.sh).

function setup(options: { failOn?: string; device?: string } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'kindling-host-address-'));
  const calls: string[][] = [];
  let now = Date.parse('2026-12-07T12:00:00Z');
  let restarts = 0;
  const onSleep: Array<() => void> = [];
  const run = () =>
    applyHostAddress({
      requestFile: path.join(dir, 'request.json'),
      confirmFile: path.join(dir, 'confirm.json'),
      statusFile: path.join(dir, 'run', 'status.json'),
      connection: 'kindling-eth0',
      nmcli: async (args) => {
        calls.push(args);
        if (options.failOn && args.includes(options.failOn)) throw new Error(`Error: failed to ${options.failOn}`);
        return args.includes('GENERAL.DEVICES') ? `${options.device ?? 'eth0'}\n` : '';
      },
      restartKindling: async () => {
        restarts++;
      },
      clock: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
        onSleep.shift()?.();
      },
      pollMs: 1000,
    });
  const request = (fields: Record<string, unknown> = {}) =>
    writeFileSync(
      path.join(dir, 'request.json'),
      JSON.stringify({
        id: 'req-0001',
        method: 'static',
        address: '10.77.0.3/24',
        gateway: null,
        dns: [],
        confirmSeconds: 30,
        restartKindling: true,
        ...fields,
      }),
    );
  const confirm = (id: string) => writeFileSync(path.join(dir, 'confirm.json'), JSON.stringify({ id }));
  const verbs = () => calls.map((c) => c.slice(0, 2).join(' ').replace('-g GENERAL.DEVICES', 'device?'));
  return { dir, calls, verbs, run, request, confirm, onSleep, restarts: () => restarts };
}

describe('kindling host-address apply (root side)', () => {
  it('applies for this boot, and saves it once the operator confirms from the new address', async () => {
    const t = setup();
    t.request();
    t.onSleep.push(
      () => undefined,
      () => t.confirm('req-0001'),
    );
    const status = await t.run();
    expect(status).toMatchObject({ id: 'req-0001', state: 'confirmed', address: '10.77.0.3/24', device: 'eth0' });
    expect(t.verbs()).toEqual(['device?', 'device modify', 'connection modify']);
    expect(t.calls[1]).toEqual(expect.arrayContaining(['eth0', 'ipv4.addresses', '10.77.0.3/24']));
    expect(t.restarts()).toBe(1);
    const file = path.join(t.dir, 'run', 'status.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ state: 'confirmed' });
    // Kindling (another user) reads it; nothing in it is secret.
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it('goes back unless confirmed in time; a confirmation of another request does not count', async () => {
    const t = setup();
    t.request({ restartKindling: false });
    t.onSleep.push(() => t.confirm('some-other-request'));
    const status = await t.run();
    expect(status).toMatchObject({ state: 'reverted', error: expect.stringContaining('not confirmed within 30 s') });
    expect(t.verbs()).toEqual(['device?', 'device modify', '--wait 30']);
    expect(t.restarts()).toBe(0);
  });

  it('does not act twice on one request (the path unit may fire again)', async () => {
    const t = setup();
    t.request();
    t.onSleep.push(() => t.confirm('req-0001'));
    await t.run();
    const before = t.calls.length;
    expect(await t.run()).toMatchObject({ state: 'confirmed' });
    expect(t.calls.length).toBe(before);
  });

  it('when nmcli cannot apply it, puts the saved profile back and says what nmcli said', async () => {
    const t = setup({ failOn: 'modify' });
    t.request();
    expect(await t.run()).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('Error: failed to modify'),
    });
    expect(t.verbs()).toEqual(['device?', 'device modify', '--wait 30']);
  });

  it('refuses when the connection kindling-firstboot made is not active, and changes nothing', async () => {
    const t = setup({ device: '' });
    t.request();
    expect(await t.run()).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('no active NetworkManager connection "kindling-eth0"'),
    });
    expect(t.verbs()).toEqual(['device?']);
  });

  describe('the request is hostile input (the unprivileged service writes it)', () => {
    it.each([
      ['an option smuggled into the address', { address: '10.77.0.3/24 ipv4.method disabled' }, 'address'],
      ['a shell command in the gateway', { gateway: '$(reboot)' }, 'gateway'],
      ['a key the request does not have', { connection: 'Wired connection 1' }, 'connection'],
      ['an id that is a path', { id: '../../../etc/passwd' }, 'id'],
      ['a network address', { address: '10.77.0.0/24' }, 'address'],
    ])('%s: refused, nmcli never runs', async (_what, fields, key) => {
      const t = setup();
      t.request(fields);
      const status = await t.run();
      expect(status).toMatchObject({ state: 'failed', error: expect.stringContaining(key) });
      expect(t.calls).toEqual([]);
    });

    it('a symbolic link in place of the request is not followed', async () => {
      const t = setup();
      writeFileSync(path.join(t.dir, 'secret'), '{"id":"req-0001"}');
      symlinkSync(path.join(t.dir, 'secret'), path.join(t.dir, 'request.json'));
      expect(await t.run()).toMatchObject({ state: 'failed', error: expect.stringContaining('symbolic link') });
      expect(t.calls).toEqual([]);
    });

    it('a request larger than 4 KiB is not read', async () => {
      const t = setup();
      t.request({ gateway: 'x'.repeat(5000) });
      expect(await t.run()).toMatchObject({ state: 'failed', error: expect.stringContaining('at most 4096') });
      expect(t.calls).toEqual([]);
    });

    it('a confirmation planted as a symbolic link is not followed, so the change goes back', async () => {
      const t = setup();
      t.request();
      writeFileSync(path.join(t.dir, 'planted'), JSON.stringify({ id: 'req-0001' }));
      t.onSleep.push(() => symlinkSync(path.join(t.dir, 'planted'), path.join(t.dir, 'confirm.json')));
      expect(await t.run()).toMatchObject({ state: 'reverted' });
    });

    it('no request at all: nothing happens', async () => {
      const t = setup();
      expect(await t.run()).toBeNull();
      expect(t.calls).toEqual([]);
    });
  });
});
