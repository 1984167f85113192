import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKindling } from '../support/kindling.js';
import { FakeUpstream, makeSigner } from './support/fake-upstream.js';
import { flatcarSource, makeHarness } from './support/mirror-harness.js';

// Upstream through a real proxy (tinyproxy from Debian) on loopback: an HTTPS fake
// upstream with its own CA, reached with CONNECT, as behind a rack's egress proxy.

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Proxy {
  url: string;
  log: () => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * Starts tinyproxy in the foreground; `connectPorts` limits CONNECT (tinyproxy allows any port when none is listed).
 */
async function startTinyproxy(dir: string, name: string, connectPorts: number[] = []): Promise<Proxy> {
  const port = await freePort();
  const logFile = path.join(dir, `${name}.log`);
  const conf = path.join(dir, `${name}.conf`);
  await writeFile(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      `LogFile "${logFile}"`,
      'LogLevel Connect',
      'MaxClients 20',
      'Allow 127.0.0.1',
      ...connectPorts.map((p) => `ConnectPort ${p}`),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
  // Ready when it accepts a connection; bounded.
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    },
  };
}

let work: string;
let upstream: FakeUpstream;
let proxy: Proxy;
let strict: Proxy;
let caFile: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kindling-proxy-'));
  caFile = path.join(work, 'ca.pem');
  const key = path.join(work, 'key.pem');
  // Self-signed, so the certificate is its own CA: what mirror.caFile is given.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  upstream = new FakeUpstream(await makeSigner('flatcar-proxy'));
  await upstream.start({ key: await readFile(key, 'utf8'), cert: await readFile(caFile, 'utf8') });
  await upstream.addFlatcar('3815.2.0');
  proxy = await startTinyproxy(work, 'open');
  strict = await startTinyproxy(work, 'strict', [443]);
});
afterAll(async () => {
  await proxy?.stop();
  await strict?.stop();
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('mirror.proxy', () => {
  it('syncs an https upstream through CONNECT on the proxy, trusting mirror.caFile', async () => {
    const source = flatcarSource(upstream);
    const k = await startTestKindling({
      config: { mirror: { schedule: null, sources: [source], proxy: proxy.url, caFile } },
    });
    try {
      expect((await k.api('POST', '/api/mirror/sync', {})).status).toBe(202);
      let state: {
        running: boolean;
        sources: Array<{ current: string | null; lastSync: { ok: boolean; error: unknown } | null }>;
      } = { running: true, sources: [] };
      for (let i = 0; i < 100 && (state.running || !state.sources[0]?.lastSync); i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await (await k.api('GET', '/api/mirror')).json()) as typeof state;
      }
      expect(state.sources[0]?.lastSync).toMatchObject({ ok: true, error: null });
      expect(state.sources[0]?.current).toBe('3815.2.0');
      expect((await k.get('/mirror/flatcar/stable/amd64-usr/current/version.txt')).status).toBe(200);
      // Every upstream request went through the proxy's tunnel.
      expect(await proxy.log()).toContain(`CONNECT 127.0.0.1:${upstream.port}`);
    } finally {
      await k.stop();
    }
  });

  it('without the proxy CA the TLS failure names mirror.caFile', async () => {
    const h = await makeHarness({ sources: [flatcarSource(upstream)], proxy: proxy.url });
    try {
      const [outcome] = await h.mirror.sync();
      expect(outcome).toMatchObject({ ok: false, error: { code: 'MIRROR_UPSTREAM' } });
      expect(outcome?.error?.message).toMatch(
        new RegExp(
          /through the proxy http:\/\/127\.0\.0\.1:\d+: the TLS certificate is not /.source +
            /trusted; a TLS-intercepting proxy needs its CA bundle in mirror\.caFile/.source,
        ),
      );
    } finally {
      await h.close();
    }
  });

  it("fails with the proxy's answer when the proxy refuses the CONNECT", async () => {
    const h = await makeHarness({ sources: [flatcarSource(upstream)], proxy: strict.url, caFile });
    try {
      const [outcome] = await h.mirror.sync();
      expect(outcome).toMatchObject({ ok: false, result: 'failed', error: { code: 'MIRROR_UPSTREAM' } });
      expect(outcome?.error?.message).toContain(
        `version.txt: ${upstream.url}/stable/amd64-usr/current/version.txt: the ` +
          `proxy ${strict.url} refused CONNECT to 127.0.0.1:${upstream.port} with HTTP 403`,
      );
      expect(h.mirror.state().sources[0]?.current).toBeNull();
    } finally {
      await h.close();
    }
  });

  it('takes HTTPS_PROXY from the environment, and NO_PROXY goes around it', async () => {
    const before = (await proxy.log()).split(`CONNECT 127.0.0.1:${upstream.port}`).length;
    const via = await makeHarness({ sources: [flatcarSource(upstream)], caFile, env: { HTTPS_PROXY: strict.url } });
    try {
      const [outcome] = await via.mirror.sync();
      expect(outcome?.error?.message).toContain(`the proxy ${strict.url} refused CONNECT`);
    } finally {
      await via.close();
    }
    const around = await makeHarness({
      sources: [flatcarSource(upstream)],
      caFile,
      env: { HTTPS_PROXY: strict.url, NO_PROXY: 'localhost,127.0.0.1' },
    });
    try {
      const [outcome] = await around.mirror.sync();
      expect(outcome).toMatchObject({ ok: true, result: 'published' });
    } finally {
      await around.close();
    }
    expect((await proxy.log()).split(`CONNECT 127.0.0.1:${upstream.port}`).length).toBe(before);
  });
});
