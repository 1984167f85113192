import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, makeSigner } from '../mirror/support/fake-upstream.js';
import { flatcarInstallProfile } from '../support/kindling.js';

// `kindling mirror sync` against a running Kindling and a local fake upstream, then
// the kernel an install boot names is really there: boot core and mirror together.

const cli = path.resolve('src/cli.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'kindling-mirror-cli-'));
let upstream: FakeUpstream;
let files: Map<string, Buffer>;
let server: ChildProcess;
let configFile = '';
let base = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function kindling(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args, '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  upstream = new FakeUpstream(await makeSigner('kindling-cli-test'));
  await upstream.start();
  files = await upstream.addFlatcar('3815.2.0');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = {
    dataDir: path.join(dir, 'data'),
    http: { listen: '127.0.0.1', port, httpsPort: 0 },
    tftp: { enabled: false },
    dhcp: { mode: 'off' },
    mirror: {
      schedule: null,
      sources: [
        {
          name: 'flatcar-stable',
          os: 'flatcar',
          channel: 'stable',
          arch: 'amd64',
          baseUrl: `${upstream.url}/stable`,
          keys: upstream.signer.armoredPublic,
        },
      ],
    },
  };
  configFile = path.join(dir, 'kindling.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  mkdirSync(path.join(dir, 'data', 'config', 'profiles'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'config', 'profiles', 'flatcar-install.yaml'), flatcarInstallProfile);
  writeFileSync(
    path.join(dir, 'data', 'config', 'machines.yaml'),
    '- { mac: "52:54:00:55:1c:ee", name: a-coreos, profile: flatcar-install }\n',
  );
  server = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error('kindling did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  server?.kill('SIGTERM');
  await upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kindling machines and render', () => {
  it('lists, assigns and renders through the running service', async () => {
    await fetch(`${base}/ipxe?mac=52-54-00-00-00-0b&platform=efi&arch=x86_64`);
    const list = await kindling(['machines', 'list']);
    expect(list.stdout).toMatch(/52:54:00:00:00:0b\s+-\s+discovered\s+-\s+127\.0\.0\.1\s+x86_64/);
    expect(list.stdout).toMatch(/52:54:00:55:1c:ee\s+a-coreos\s+assigned\s+flatcar-install/);
    const assign = await kindling(['machines', 'assign', '52-54-00-00-00-0B', 'flatcar-install', '--name', 'b-coreos']);
    expect(assign.code).toBe(0);
    const ipxe = await kindling(['render', '52:54:00:00:00:0b', '--as', 'ipxe']);
    expect(ipxe.stdout).toContain('b-coreos (52:54:00:00:00:0b): installing flatcar');
    const ign = await kindling(['render', '52:54:00:00:00:0b', '--as', 'ignition']);
    const config = JSON.parse(ign.stdout) as { ignition: { version: string } };
    expect(config.ignition.version).toBe('3.3.0');
    expect(ign.stdout).toMatch(/token(=|%3D)\*{8}/); // masked, even inside data: URLs
    expect(ign.stdout).not.toMatch(/token(=|%3D)[A-Za-z0-9_-]{20}/);
    const unknown = await kindling(['machines', 'assign', '52:54:00:00:00:0b', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('there is no profile "nope"');
  });
});

describe('kindling mirror', () => {
  it('syncs now, shows progress, and ends with the versions held', async () => {
    const run = await kindling(['mirror', 'sync']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/flatcar-stable\s+3815\.2\.0\s+3815\.2\.0 \(/);
    const status = await kindling(['mirror', 'status']);
    expect(status.stdout).toMatch(/flatcar-stable\s+3815\.2\.0/);
    expect(status.stdout).toContain('schedule: off');
  });

  it('serves the kernel and initramfs an install boot names, byte for byte', async () => {
    const script = await (await fetch(`${base}/ipxe?mac=52:54:00:55:1c:ee&platform=pcbios&arch=i386`)).text();
    const kernel = /^kernel (\S+)/m.exec(script)![1]!;
    const initrd = /^initrd --name \S+ (\S+)/m.exec(script)![1]!;
    expect(
      Buffer.from(await (await fetch(kernel)).arrayBuffer()).equals(files.get('flatcar_production_pxe.vmlinuz')!),
    ).toBe(true);
    expect(
      Buffer.from(await (await fetch(initrd)).arrayBuffer()).equals(files.get('flatcar_production_pxe_image.cpio.gz')!),
    ).toBe(true);
    const health = (await (await fetch(`${base}/healthz`)).json()) as {
      services: Array<{ name: string; state: string }>;
    };
    expect(health.services.find((s) => s.name === 'mirror')?.state).toBe('running');
  });

  it('says clearly when the upstream is gone, and keeps the good version', async () => {
    await upstream.stop();
    const run = await kindling(['mirror', 'sync']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/flatcar-stable\s+3815\.2\.0\s+.*failed: /);
    expect((await fetch(`${base}/mirror/flatcar/stable/amd64-usr/current/flatcar_production_pxe.vmlinuz`)).status).toBe(
      200,
    );
  });
});
