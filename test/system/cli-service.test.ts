import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatcarInstallProfile, startTestKindling, type TestKindling } from '../support/kindling.js';

// The `kindling` command, as a person runs it, when the service is stopped, when
// something that is not Kindling holds its port, when nothing answers in time, and
// when the service refuses: it says what happened, where it looked and the code.
// Everything is on 127.0.0.1.

const cli = path.resolve('src/cli.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'kindling-cli-service-'));
const servers: Server[] = [];
const sockets: Socket[] = [];
let k: TestKindling;

beforeAll(async () => {
  k = await startTestKindling({ files: { 'profiles/flatcar-install.yaml': flatcarInstallProfile } });
});
afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function kindling(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A kindling.yaml with `http` as given (JSON is YAML) and its own data directory. */
function configWith(name: string, http: Record<string, unknown>, dataDir = path.join(dir, name, 'data')): string {
  mkdirSync(path.join(dir, name), { recursive: true });
  const file = path.join(dir, name, 'kindling.yaml');
  writeFileSync(file, JSON.stringify({ dataDir, http, tftp: { enabled: false }, dhcp: { mode: 'off' } }));
  return file;
}

/** A 127.0.0.1 port nothing listens on: bound, read, closed. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A listener on 127.0.0.1 that handles each connection with `onConnection`. */
function listener(onConnection: (socket: Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer((socket) => {
      sockets.push(socket);
      onConnection(socket);
    }).listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
    servers.push(s);
  });
}

describe('kindling with no service answering', () => {
  it('a stopped service: says nothing answers, at which URL, from which file and keys', async () => {
    const port = await closedPort();
    const file = configWith('stopped', { listen: '127.0.0.1', port });
    const run = await kindling(['machines', 'list', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `kindling: no Kindling answers at http://127.0.0.1:${port} (from --config ${file} http.listen and ` +
        `http.port): connection refused (nothing listens there); is the service running? (systemctl status ` +
        `kindling)\n`,
    );
  });

  it('names a default key as a default: listen 0.0.0.0 is asked on loopback', async () => {
    const port = await closedPort();
    const file = configWith('port-only', { port });
    const run = await kindling(['render', '52:54:00:00:00:01', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `no Kindling answers at http://127.0.0.1:${port} (from --config ${file} http.port; http.listen default)`,
    );
  });

  it('mirror sync on a stopped service says to start the service first', async () => {
    const port = await closedPort();
    const run = await kindling([
      'mirror',
      'sync',
      '--config',
      configWith('sync-stopped', { listen: '127.0.0.1', port }),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        /no Kindling answers at http:\/\/127\.0\.0\.1:\d+ .*: connection /.source +
          /refused .*; the mirror syncs inside the service, so start it first /.source +
          /\(systemctl start kindling\), then run kindling mirror sync again\n$/.source,
      ),
    );
  });

  it('an address that takes the connection and never answers: gives up after --timeout, saying so', async () => {
    const port = await listener(() => undefined); // like a host that drops everything
    const run = await kindling([
      'mirror',
      'status',
      '--timeout',
      '1',
      '--config',
      configWith('silent', { listen: '127.0.0.1', port }),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `no Kindling answers at http://127\\.0\\.0\\.1:${port} \\(.*\\): no ` +
          `answer within 1 s; is the service running\\?`,
      ),
    );
  });

  it('a connection closed without an answer is named as such, never an empty message', async () => {
    const port = await listener((socket) => socket.destroy());
    // Node 20's fetch may wait on such a connection for ever: the deadline must still end it, as a failure.
    const run = await kindling([
      'machines',
      'list',
      '--timeout',
      '1',
      '--config',
      configWith('reset', { listen: '127.0.0.1', port }),
    ]);
    expect(run.code).toBe(1);
    const why = /the connection was closed before an answer|the connection failed \(.+\)|no answer within 1 s/.source;
    expect(run.stderr).toMatch(new RegExp(`no Kindling answers at .*: (${why}); is the service running`));
  });

  it('another program on the port, answering an empty 502: says it is not Kindling', async () => {
    const port = await listener((socket) =>
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'),
    );
    const run = await kindling(['machines', 'list', '--config', configWith('other', { listen: '127.0.0.1', port })]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `kindling: http://127.0.0.1:${port} answered 502 Bad Gateway, which is not ` +
        `Kindling's API (from --config ${path.join(dir, 'other', 'kindling.yaml')} ` +
        `http.listen and http.port); is another program listening there?\n`,
    );
  });
});

describe('kindling against a running Kindling', () => {
  const url = () => new URL(k.httpUrl);

  it("keeps the server's error code: an unknown machine, an unknown profile", async () => {
    const file = configWith('running', { listen: '127.0.0.1', port: Number(url().port) }, k.dataDir);
    const show = await kindling(['machines', 'show', '52:54:00:00:00:99', '--config', file]);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/^kindling: .*52:54:00:00:00:99.* \[MACHINE_UNKNOWN\]\n$/);
    await k.get('/ipxe?mac=52-54-00-00-00-0c&platform=efi&arch=x86_64');
    const assign = await kindling(['machines', 'assign', '52:54:00:00:00:0c', 'nope', '--config', file]);
    expect(assign.code).toBe(1);
    expect(assign.stderr).toMatch(/there is no profile "nope".* \[PROFILE_UNKNOWN\]\n$/);
    const list = await kindling(['machines', 'list', '--config', file]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/52:54:00:00:00:0c\s+-\s+discovered/);
  });

  it('without the admin token: AUTH_REQUIRED, and which token file it could not read', async () => {
    const elsewhere = path.join(dir, 'no-token-data');
    const file = configWith('no-token', { listen: '127.0.0.1', port: Number(url().port) }, elsewhere);
    const run = await kindling(['machines', 'list', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '[AUTH_REQUIRED]; there is no admin token at ' + path.join(elsewhere, 'state', 'admin-token'),
    );
  });

  it("with another data directory's token: says the token is not the service's", async () => {
    const other = path.join(dir, 'other-token-data');
    mkdirSync(path.join(other, 'state'), { recursive: true });
    writeFileSync(path.join(other, 'state', 'admin-token'), 'not-the-token\n');
    const run = await kindling([
      'mirror',
      'status',
      '--config',
      configWith('wrong-token', { listen: '127.0.0.1', port: Number(url().port) }, other),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `[AUTH_REQUIRED]; the token in ${path.join(other, 'state', 'admin-token')} is not the one the service ` +
        `at http://127.0.0.1:${url().port} uses; does it run with dataDir ${other}?`,
    );
  });
});
