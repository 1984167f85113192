import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Rack } from './rack.js';
import { repoRoot, staticServerScript, type Upstream } from './standin.js';

// Kindling as the appliance runs it (`kindling serve --config FILE`), inside the rack's
// server namespace, on port 80, TFTP 69 and DHCP 67. The test reaches its API with
// curl inside that namespace.

export interface E2eKindling {
  dataDir: string;
  logFile: string;
  url: string;
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Kindling's log lines that mention this MAC (either spelling). */
  logFor(mac: string): string;
  stop(): Promise<void>;
}

export interface KindlingOptions {
  rack: Rack;
  workDir: string;
  upstream: Upstream;
  upstreamPort: number;
  dhcp: 'full' | 'proxy';
  profiles: Record<string, string>;
}

export async function startKindling(options: KindlingOptions): Promise<E2eKindling> {
  const { rack, workDir } = options;
  const dataDir = path.join(workDir, 'data');
  mkdirSync(path.join(dataDir, 'config', 'profiles'), { recursive: true });
  for (const [name, text] of Object.entries(options.profiles))
    writeFileSync(path.join(dataDir, 'config', 'profiles', `${name}.yaml`), text);
  writeFileSync(path.join(dataDir, 'config', 'machines.yaml'), '[]\n');
  const net = rack.serverIp.split('.').slice(0, 3).join('.');
  const config = {
    dataDir,
    server: { advertise: rack.serverIp, interface: 'eth0' },
    http: { listen: '0.0.0.0', port: 80 },
    tftp: { enabled: true, listen: '0.0.0.0', port: 69, roots: ['/usr/lib/ipxe'] },
    dhcp: {
      mode: options.dhcp,
      interface: 'eth0',
      range: { start: `${net}.100`, end: `${net}.150` },
      subnetMask: '255.255.255.0',
      router: rack.serverIp,
      dns: [rack.serverIp],
      bootFiles: {
        bios: 'undionly.kpxe',
        uefi: process.env['KINDLING_E2E_UEFI_BOOTFILE'] ?? 'snponly.efi',
        arm64: null,
      },
    },
    mirror: {
      schedule: null,
      keep: 2,
      sources: [
        {
          name: 'flatcar-stable',
          os: 'flatcar',
          channel: 'stable',
          arch: 'amd64',
          baseUrl: options.upstream.baseUrl,
          keys: options.upstream.keys,
        },
      ],
    },
    machines: { unknown: 'wait' },
    boot: { retrySeconds: 3 },
    log: { level: 'debug' },
  };
  const configFile = path.join(workDir, 'kindling.yaml');
  writeFileSync(configFile, `# written by test/e2e/support/kindling.ts\n${JSON.stringify(config, null, 2)}\n`);

  const logFile = path.join(workDir, 'kindling.log');
  const log = createWriteStream(logFile);
  const children: ChildProcess[] = [];
  const upstream = rack.spawn(rack.serverNs, process.execPath, [
    staticServerScript,
    options.upstream.root,
    '127.0.0.1',
    String(options.upstreamPort),
  ]);
  children.push(upstream);
  // KINDLING_E2E_CHECKOUT runs another checkout's Kindling against this rack (to bisect).
  const checkout = process.env['KINDLING_E2E_CHECKOUT'] ?? repoRoot;
  const kindling = rack.spawn(rack.serverNs, process.execPath, [
    '--import',
    'tsx',
    path.join(checkout, 'src/cli.ts'),
    'serve',
    '--config',
    configFile,
  ]);
  children.push(kindling);
  kindling.stdout?.pipe(log);
  kindling.stderr?.pipe(log);
  let exited: string | null = null;
  kindling.on('exit', (code, signal) => (exited = `Kindling exited (${code ?? signal})`));

  const url = `http://${rack.serverIp}`;
  const curl = async (args: string[]) => rack.exec(rack.serverNs, 'curl', ['-s', '--max-time', '10', ...args]);
  let token = '';
  const api: E2eKindling['api'] = async (method, route, body) => {
    const args = ['-X', method, '-H', `authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    // On the box's loopback, as the CLI talks to it: from another host /api/ is HTTPS only.
    const out = await curl([...args, `http://127.0.0.1${route}`]);
    const cut = out.lastIndexOf('\n');
    const text = out.slice(0, cut);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: Number(out.slice(cut + 1)), body: parsed as never };
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${exited} before it was ready; its log:\n${readFileSync(logFile, 'utf8')}`);
    try {
      if ((await curl(['-o', '/dev/null', '-w', '%{http_code}', `${url}/healthz`])).trim() === '200') break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline)
      throw new Error(`Kindling did not answer /healthz within 60 s; its log:\n${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  token = readFileSync(path.join(dataDir, 'state', 'admin-token'), 'utf8').trim();

  return {
    dataDir,
    logFile,
    url,
    api,
    logFor(mac) {
      const hyphen = mac.replace(/:/g, '-');
      const bare = mac.replace(/:/g, '');
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(mac) || l.includes(hyphen) || l.toLowerCase().includes(bare))
        .join('\n');
    },
    async stop() {
      for (const child of children) child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      log.end();
    },
  };
}
