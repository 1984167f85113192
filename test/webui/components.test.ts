import path from 'node:path';
import type { Component } from 'svelte';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedKey } from '../support/kindling.js';
import type { UpdateMachine } from '../../src/api-client/types.js';
import { repoRoot } from './build.js';

// Component tests: the page's Svelte components compiled by the page's own Vite
// config and rendered with svelte/server (no browser, no DOM), plus the pure form
// model. The browser behaviour is in e2e.test.ts.

let vite: ViteDevServer;
// The renderer comes through Vite too, so it shares one Svelte runtime with the components.
let render: typeof import('svelte/server').render;
/** A compiled `.svelte` module, its props left open: each test passes the props its view takes. */
type SvelteModule = { default: Component<Record<string, unknown>> };
const load = async <T = SvelteModule>(file: string): Promise<T> => (await vite.ssrLoadModule(file)) as T;

beforeAll(async () => {
  vite = await createServer({
    configFile: path.join(repoRoot, 'webui', 'vite.config.ts'),
    server: { middlewareMode: true, hmr: false, watch: null },
    appType: 'custom',
    logLevel: 'silent',
  });
  render = ((await vite.ssrLoadModule('svelte/server')) as typeof import('svelte/server')).render;
}, 60_000);
afterAll(async () => {
  await vite?.close();
});

describe('components', () => {
  it('SshKeys shows each server issue at its line, with the line it is about', async () => {
    const { default: SshKeys } = await load('/src/views/SshKeys.svelte');
    const { body } = render(SshKeys, {
      props: {
        id: 'keys',
        value: `${sharedKey}\nssh-rsa AAAA!!bad`,
        errors: [{ index: 1, message: 'expected an SSH public key' }],
      },
    });
    expect(body).toContain('aria-invalid="true"');
    expect(body).toMatch(/Line 2 \(ssh-rsa AAAA!!bad…\): expected an SSH public key/);
    expect(body).not.toMatch(/Line 1/);
    const clean = render(SshKeys, { props: { id: 'keys', value: sharedKey, errors: [] } }).body;
    expect(clean).not.toContain('aria-invalid');
    expect(clean).not.toContain('class="error"');
  });

  it('Field ties the label to its control and shows the error under it', async () => {
    const { default: Field } = await load('/src/views/Field.svelte');
    const { createRawSnippet } = (await vite.ssrLoadModule('svelte')) as typeof import('svelte');
    const children = createRawSnippet(() => ({ render: () => '<input id="hostname">' }));
    const { body } = render(Field, {
      props: { id: 'hostname', label: 'Hostname pattern', error: 'expected a host name', children },
    });
    expect(body).toMatch(/<label for="hostname">Hostname pattern<\/label>/);
    expect(body).toMatch(/role="alert"[^>]*>expected a host name</);
  });

  it('MirrorProgress shows bytes, rate and time left for files still downloading', async () => {
    const { default: MirrorProgress } = await load('/src/views/MirrorProgress.svelte');
    const progress = [
      {
        source: 'flatcar-stable',
        file: 'flatcar_production_pxe_image.cpio.gz',
        bytes: 50 * 1024 * 1024,
        total: 200 * 1024 * 1024,
        rate: 10 * 1024 * 1024,
        eta: 15,
        done: false,
      },
      { source: 'flatcar-stable', file: 'version.txt', bytes: 300, total: 300, rate: 0, eta: 0, done: true },
    ];
    const { body } = render(MirrorProgress, { props: { progress } });
    expect(body).toContain('50.0 MiB of 200.0 MiB');
    expect(body).toContain('10.0 MiB/s');
    expect(body).toContain('15s left');
    expect(body).not.toContain('version.txt');
  });

  it('Login renders a labelled password field and no error before a try', async () => {
    const { default: Login } = await load('/src/views/Login.svelte');
    const { body } = render(Login, {
      props: { notice: 'Your session expired; log in again.', onLogin: () => undefined },
    });
    expect(body).toMatch(/<label for="password">Admin password<\/label>/);
    expect(body).toContain('autocomplete="current-password"');
    expect(body).toContain('Your session expired');
  });
});

describe('profile form model', () => {
  it('turns the form into the profile object the server validates, and back', async () => {
    const f = await load<typeof import('../../webui/src/lib/profile-form.js')>('/src/lib/profile-form.ts');
    const m = f.emptyModel();
    m.users[0]!.keys = `\n${sharedKey}\n\n`;
    m.units.push({ name: 'docker.service', enabled: true, contents: '' });
    m.disks.push({ device: '/dev/sdb', wipe: true, partitions: [{ label: 'docker', sizeMiB: '' }] });
    m.filesystems.push({
      device: '/dev/disk/by-partlabel/docker',
      format: 'ext4',
      path: '/var/lib/docker',
      wipe: true,
    });
    const p = f.toProfile(m);
    expect(p).toEqual({
      os: 'flatcar',
      channel: 'stable',
      version: 'current',
      arch: 'amd64',
      mode: 'install',
      installDisk: '/dev/sda',
      config: 'ignition',
      hostname: '{{name}}',
      users: [{ name: 'core', groups: ['sudo', 'docker'], sshAuthorizedKeys: [sharedKey] }],
      units: [{ name: 'docker.service', enabled: true }],
      storage: {
        disks: [{ device: '/dev/sdb', wipe: true, partitions: [{ label: 'docker', sizeMiB: 0 }] }],
        filesystems: [{ device: '/dev/disk/by-partlabel/docker', format: 'ext4', path: '/var/lib/docker', wipe: true }],
      },
    });
    expect(f.toProfile(f.fromProfile(p))).toEqual(p);
    const fcos = {
      ...f.emptyModel(),
      os: 'fcos' as const,
      channel: 'testing',
      arch: 'x86_64',
      kind: 'template' as const,
      template: '{"ignition":{"version":"3.3.0"}}',
    };
    expect(f.toProfile(fcos)).toMatchObject({ os: 'fcos', stream: 'testing', template: fcos.template });
    expect(f.toProfile(fcos)).not.toHaveProperty('channel');
    expect(f.keyLines('a\n b \n')).toEqual(['a', 'b']);
  });

  it('keeps what the form has no field for, so form and YAML round trips lose nothing', async () => {
    const f = await load<typeof import('../../webui/src/lib/profile-form.js')>('/src/lib/profile-form.ts');
    const written = {
      os: 'flatcar',
      channel: 'beta',
      version: 'current',
      arch: 'arm64',
      mode: 'live',
      installDisk: '/dev/vda',
      config: 'ignition',
      hostname: 'n-{{name}}',
      kernelArgs: ['console=ttyS0'],
      autologin: true,
      users: [{ name: 'core', groups: ['sudo'], sshAuthorizedKeys: [sharedKey], passwordHash: '$6$salt$hash' }],
      files: [{ path: '/etc/x', mode: '0600', contents: 'x', overwrite: false }],
      units: [{ name: 'a.service', enabled: true, mask: false }],
      storage: {
        disks: [{ device: '/dev/sdb', wipe: true, partitions: [{ label: 'data', sizeMiB: 0, number: 2 }] }],
        filesystems: [
          { device: '/dev/sdb2', format: 'xfs', path: '/data', wipe: false, label: 'data', mountOptions: ['noatime'] },
        ],
      },
    };
    expect(f.toProfile(f.fromProfile(written))).toEqual(written);
  });

  it('reads a draft whose YAML has the wrong types without throwing', async () => {
    const f = await load<typeof import('../../webui/src/lib/profile-form.js')>('/src/lib/profile-form.ts');
    const m = f.fromProfile({ os: 7, users: 'core', files: [null, 'x'], storage: 5, hostname: ['a'], unknownKey: 1 });
    expect(m).toMatchObject({ os: 'flatcar', users: [], files: [], disks: [], hostname: '', extra: { unknownKey: 1 } });
  });

  it('UpdateGroups shows each group with its policy, target and machines updating now', async () => {
    const { default: UpdateGroups } = await load('/src/views/UpdateGroups.svelte');
    const groups = [
      {
        name: 'stable',
        policy: { source: null, version: 'current', paused: true, rolloutLimit: 3 },
        configured: true,
        source: 'flatcar-stable',
        target: '3815.2.1',
        slotsInUse: 2,
        machines: 7,
      },
      {
        name: 'beta',
        policy: { source: null, version: 'current', paused: false, rolloutLimit: null },
        configured: false,
        source: null,
        target: null,
        slotsInUse: 0,
        machines: 0,
      },
    ];
    const { body } = render(UpdateGroups, {
      props: { groups, sources: ['flatcar-stable'], onSave: () => undefined, onReset: () => undefined },
    });
    expect(body).toMatch(/data-group="stable"/);
    expect(body).toContain('3815.2.1');
    expect(body).toContain('nothing mirrored');
    expect(body).toMatch(/aria-label="Pause stable"[^>]*checked|checked[^>]*aria-label="Pause stable"/);
    expect(body).toMatch(/value="3"/);
    // Only a configured group has defaults to go back to.
    expect(body.match(/>Defaults</g)?.length).toBe(1);
    expect(
      render(UpdateGroups, { props: { groups: [], sources: [], onSave: () => undefined, onReset: () => undefined } })
        .body,
    ).toContain('No update groups yet');
  });
});

describe('update reports on the machines page', () => {
  const report = (over: Partial<UpdateMachine>): UpdateMachine => ({
    machineId: 'a1',
    group: 'stable',
    version: '3815.2.0',
    state: 'up-to-date',
    reason: null,
    offered: null,
    offeredAt: null,
    errorCode: null,
    ip: '192.168.1.20',
    mac: null,
    sentKey: false,
    alias: '',
    lastSeen: '2026-12-07T10:00:00.000Z',
    name: null,
    matchedBy: null,
    ...over,
  });

  it("a row shows its machine's newest report; reports that name no machine are listed below, with why", async () => {
    const { splitUpdates } = await load<typeof import('../../webui/src/lib/updates.js')>('/src/lib/updates.ts');
    const mac = '52:54:00:4e:a7:01';
    const old = report({ machineId: 'before-reinstall', mac, matchedBy: 'key', version: '3374.0.0' });
    const current = report({ machineId: 'after', mac, matchedBy: 'key', lastSeen: '2026-12-07T11:00:00.000Z' });
    const natted = report({ machineId: 'c3c3', ip: '10.9.0.7', version: '3602.2.0', state: 'held', reason: 'paused' });
    const forged = report({ machineId: 'd4d4', sentKey: true, lastSeen: '2026-12-07T11:58:00.000Z' });
    const { byMac, unmatched } = splitUpdates([current, natted, old, forged]);
    expect(byMac[mac]?.machineId).toBe('after');
    expect(unmatched.map((u) => u.machineId)).toEqual(['c3c3', 'd4d4']);

    const { default: UnmatchedUpdates } = await load('/src/views/UnmatchedUpdates.svelte');
    const now = Date.parse('2026-12-07T12:00:00.000Z');
    const { body } = render(UnmatchedUpdates, { props: { nodes: unmatched, now } });
    expect(body).toContain('Nodes reporting updates that match no machine here');
    expect(body).toMatch(/installed before .*update\.conf.* carried the\s+machine's key/);
    expect(body).toMatch(/Reinstall the machine, or copy the SERVER= line/);
    const row = body.slice(body.indexOf('data-machine-id="c3c3"'), body.indexOf('data-machine-id="d4d4"'));
    for (const cell of ['10.9.0.7', '3602.2.0', 'held', 'none', '2h 0m ago']) expect(row).toContain(cell);
    expect(row).toContain('title="paused"');
    expect(body.slice(body.indexOf('data-machine-id="d4d4"'))).toContain('matches no machine');
    expect(render(UnmatchedUpdates, { props: { nodes: [], now } }).body).not.toContain('<table');
  });
});
