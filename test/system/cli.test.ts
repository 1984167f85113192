import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile } from '../support/kindling.js';

// The `kindling` command as a person runs it, in a child process.
const cli = path.resolve('src/cli.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'kindling-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kindling(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function rig(name: string, config: string, files: Record<string, string>): string {
  const root = path.join(dir, name);
  for (const [f, text] of Object.entries(files)) write(path.join(root, 'data', 'config', f), text);
  return write(path.join(root, 'kindling.yaml'), `dataDir: data\n${config}`);
}

describe('kindling check', () => {
  it('accepts a valid configuration with its profiles and machines', () => {
    const file = rig('good', 'machines: { unknown: { profile: flatcar-install } }\n', {
      'profiles/flatcar-install.yaml': flatcarInstallProfile,
      'machines.yaml': '- { mac: "52:54:00:55:1c:ee", name: a-coreos, profile: flatcar-install }\n',
    });
    const run = kindling(['check', '--config', file]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('valid');
  });

  it.each([
    ['an unknown key', 'htpp: { port: 80 }\n', {}, /kindling\.yaml: unknown key "htpp"/],
    [
      'an unknown default profile',
      'machines: { unknown: { profile: missing } }\n',
      {},
      /key "machines\.unknown\.profile": there is no profile "missing"/,
    ],
    [
      'a profile with a bad SSH key',
      '',
      { 'profiles/p.yaml': 'users: [{ name: core, sshAuthorizedKeys: ["not a key"] }]\n' },
      /p\.yaml: key "users\.0\.sshAuthorizedKeys\.0": expected an SSH public key/,
    ],
    [
      'a template with an undefined variable',
      '',
      { 'profiles/t.yaml': 'config: cloud-config\ntemplate: "#cloud-config\\nhostname: {{nmae}}\\n"\n' },
      /profile t rendered for sample-node .*nmae/,
    ],
    [
      'a machine naming a missing profile',
      '',
      { 'machines.yaml': '- { mac: "52:54:00:55:1c:ee", profile: nope }\n' },
      /machine 52:54:00:55:1c:ee names profile "nope", but there is no .*nope\.yaml/,
    ],
  ])('fails on %s, naming file, key and expectation', (name, config, files, pattern) => {
    const run = kindling(['check', '--config', rig(name.replace(/\W+/g, '-'), config, files)]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(pattern);
  });
});

describe('kindling serve under a service manager', () => {
  const haveSocat = spawnSync('socat', ['-V']).status === 0;
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it.skipIf(!haveSocat)(
    'sends READY=1 only once listening, pings the watchdog, and stops cleanly on SIGTERM',
    async () => {
      const socket = path.join(dir, 'notify.sock');
      const receiver = spawn('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(receiver);
      let received = '';
      receiver.stdout.on('data', (d: Buffer) => (received += `${d.toString()}\n`));
      for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));

      const file = rig(
        'serve',
        'http: { listen: 127.0.0.1, port: 0, httpsPort: 0 }\ntftp: { enabled: false }\ndhcp: ' +
          '{ mode: "off" }\nmirror: { schedule: null, sources: [] }\n',
        {},
      );
      const server = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--config', file], {
        env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(server);
      let out = '';
      server.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 20_000;
      while (!(received.includes('READY=1') && received.includes('WATCHDOG=1')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(received).toContain('READY=1');
      expect(received).toMatch(/STATUS=HTTP on 127\.0\.0\.1:\d+/);
      expect(received).toContain('WATCHDOG=1');
      // READY came after the listener: the printed URL answers.
      const url = /Health:\s+(\S+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect((await fetch(url!)).status).toBe(200);

      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toContain('STOPPING=1');
    },
  );

  it('refuses to start on a broken configuration, saying where', () => {
    const file = rig('broken', 'dhcp: { mode: sometimes }\n', {});
    const run = kindling(['serve', '--config', file]);
    expect(run.status).toBe(78); // EX_CONFIG: systemd does not restart-loop on it
    expect(run.stderr).toMatch(/kindling\.yaml: key "dhcp\.mode": .*expected one of/);
  });
});
