import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns } from '../support/netns.js';
import { startTestKindling, type TestKindling } from '../support/kindling.js';
import { ensureWebuiBuilt } from '../webui/build.js';
import { createRemoteHost, type RemoteHost } from './support/remote-host.js';

// The setup page and the admin API over HTTPS with a self-signed
// certificate made on the first start; boot routes stay on plain HTTP for iPXE.

// Never execFileSync a client of Kindling: it runs in this process and could not answer.
const run = promisify(execFile);
const tlsDir = (k: TestKindling) => path.join(k.dataDir, 'state', 'tls');
const certOf = (k: TestKindling) => readFileSync(path.join(tlsDir(k), 'cert.pem'), 'utf8');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** SHA-256 of the certificate the server presented. */
  peerFingerprint: string;
}

/** One HTTPS request that trusts only the box's own certificate (pinned as the sole CA). */
function pinned(
  k: TestKindling,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const base = new URL(k.httpsUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path: url,
        ca: certOf(k),
        agent: false,
        headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
        timeout: 5000,
      },
      (res) => {
        const peerFingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peerFingerprint }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTPS for the setup page and the admin API', () => {
  let k: TestKindling;

  beforeAll(async () => {
    await ensureWebuiBuilt();
    k = await startTestKindling();
  }, 120_000);
  afterAll(async () => {
    await k?.stop();
  });

  it('serves the page and the API over HTTPS to a client that pins the certificate', async () => {
    const page = await pinned(k, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="app"');
    const machines = await pinned(k, 'GET', '/api/machines', { headers: { authorization: `Bearer ${k.adminToken}` } });
    expect(machines.status).toBe(200);
    expect(JSON.parse(machines.body)).toHaveProperty('machines');
  });

  it(
    "reports the fingerprint of the certificate it serves, on the page's " +
      'session call, /healthz and in DATADIR/state/tls',
    async () => {
      const session = await pinned(k, 'GET', '/api/session');
      const reported = (JSON.parse(session.body) as { tlsFingerprint: string }).tlsFingerprint;
      expect(reported).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(reported).toBe(session.peerFingerprint);
      const health = (await (await k.get('/healthz')).json()) as { tls: { fingerprint: string; port: number } };
      expect(health.tls).toEqual({ fingerprint: reported, port: Number(new URL(k.httpsUrl).port) });
      expect(readFileSync(path.join(tlsDir(k), 'fingerprint'), 'utf8')).toBe(`${reported}\n`);
      // The same figure OpenSSL computes from the stored certificate.
      const openssl = execFileSync(
        'openssl',
        ['x509', '-noout', '-fingerprint', '-sha256', '-in', path.join(tlsDir(k), 'cert.pem')],
        { encoding: 'utf8' },
      );
      expect(openssl.trim()).toBe(`sha256 Fingerprint=${reported}`);
    },
  );

  it('curl accepts the certificate for 127.0.0.1 and kindling.local once it is the trusted CA', async () => {
    const cafile = path.join(k.dataDir, 'pinned.pem');
    writeFileSync(cafile, certOf(k));
    const port = new URL(k.httpsUrl).port;
    for (const name of ['127.0.0.1', 'kindling.local']) {
      const { stdout } = await run(
        'curl',
        [
          '-sS',
          '--max-time',
          '10',
          '--cacert',
          cafile,
          '--resolve',
          `kindling.local:${port}:127.0.0.1`,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          `https://${name}:${port}/api/session`,
        ],
        { encoding: 'utf8' },
      );
      expect(stdout, name).toBe('200');
    }
  });

  it('keeps the private key readable by its owner only', () => {
    expect(statSync(path.join(tlsDir(k), 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(tlsDir(k)).mode & 0o077).toBe(0);
  });

  it('marks the session cookie Secure when it is set over HTTPS', async () => {
    const set = await pinned(k, 'POST', '/api/setup/password', {
      body: JSON.stringify({ password: 'correct horse battery' }),
    });
    expect(set.status).toBe(200);
    const cookie = String(set.headers['set-cookie']);
    expect(cookie).toMatch(/^kindling_session=/);
    expect(cookie.split('; ')).toContain('Secure');
    // The cookie works on the HTTPS side it was made for.
    const session = await pinned(k, 'GET', '/api/session', { headers: { cookie: cookie.split(';')[0]! } });
    expect(JSON.parse(session.body)).toMatchObject({ authenticated: true });
  });

  it('leaves plain HTTP open to the box itself: the CLI on 127.0.0.1 keeps its bearer-token API', async () => {
    const res = await k.api('GET', '/api/machines');
    expect(res.status).toBe(200);
    const page = await k.get('/', { redirect: 'manual' });
    expect(page.status).toBe(200);
  });

  it('keeps the same certificate across a restart', async () => {
    const dataDir = k.dataDir;
    const before = { cert: certOf(k), fingerprint: k.tlsFingerprint };
    await k.close();
    k = await startTestKindling({ dataDir });
    expect(certOf(k)).toBe(before.cert);
    expect(k.tlsFingerprint).toBe(before.fingerprint);
    expect((await pinned(k, 'GET', '/api/session')).peerFingerprint).toBe(before.fingerprint);
  });

  it('replaces a certificate whose key no longer matches, instead of failing to start', async () => {
    const dataDir = k.dataDir;
    const before = k.tlsFingerprint;
    await k.close();
    writeFileSync(
      path.join(dataDir, 'state', 'tls', 'key.pem'),
      '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n',
    );
    k = await startTestKindling({ dataDir });
    expect(k.tlsFingerprint).not.toBe(before);
    expect((await pinned(k, 'GET', '/api/session')).peerFingerprint).toBe(k.tlsFingerprint);
  });
});

describe.skipIf(!canUseNetns())('plain HTTP from another host on the network', () => {
  let k: TestKindling;
  let remote: RemoteHost;
  let http: string;
  let httpsPort: string;

  beforeAll(async () => {
    await ensureWebuiBuilt();
    remote = createRemoteHost();
    k = await startTestKindling({ config: { http: { listen: remote.localIp, port: 0, httpsPort: 0 } } });
    http = k.httpUrl;
    httpsPort = new URL(k.httpsUrl).port;
  }, 120_000);
  afterAll(async () => {
    await k?.stop();
    remote?.destroy();
  });

  /** Status and Location of one request from the remote host. */
  const fromRemote = async (args: string[]) => {
    const [status, location] = (
      await remote.curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--path-as-is', ...args])
    ).split(' ');
    return { status: Number(status), location };
  };

  it('sends a browser asking for the page or the API to the same URL over HTTPS (308)', async () => {
    const page = await remote.curl(['--cacert', certFile(), `https://${remote.localIp}:${httpsPort}/`]);
    const asset = /\/assets\/[^"']+/.exec(page)?.[0];
    expect(asset).toBeDefined();
    for (const url of ['/', '/index.html', asset!, '/api/machines', '/api/session', '/%61pi/machines?x=1']) {
      expect(await fromRemote([`${http}${url}`]), url).toEqual({
        status: 308,
        location: `https://${remote.localIp}:${httpsPort}${url}`,
      });
    }
    // Same host the browser used, and the method kept: a login posted to HTTP is not turned into a GET.
    expect(await fromRemote(['-H', 'host: kindling.local', '-X', 'POST', `${http}/api/login`])).toEqual({
      status: 308,
      location: `https://kindling.local:${httpsPort}/api/login`,
    });
  });

  it('refuses the admin token over plain HTTP from another host rather than redirecting it', async () => {
    const out = await remote.curl([
      '-w',
      '\n%{http_code}',
      '-H',
      `authorization: Bearer ${k.adminToken}`,
      `${http}/api/machines`,
    ]);
    const cut = out.lastIndexOf('\n');
    expect(out.slice(cut + 1)).toBe('403');
    expect(JSON.parse(out.slice(0, cut))).toMatchObject({ error: { code: 'HTTPS_REQUIRED' } });
  });

  it('keeps the boot routes on plain HTTP for iPXE and the installers', async () => {
    for (const url of ['/healthz', '/boot.ipxe', '/ipxe?mac=52:54:00:13:09:01&arch=x86_64&platform=pcbios']) {
      expect(await fromRemote([`${http}${url}`]), url).toEqual({ status: 200, location: '' });
    }
    // Routes that answer, just not 200 here: still plain HTTP, no redirect.
    expect(await fromRemote([`${http}/ignition?mac=52:54:00:13:09:01`])).toMatchObject({ location: '' });
    expect(await fromRemote(['-X', 'POST', `${http}/callback/installed?mac=52:54:00:13:09:01&token=x`])).toMatchObject({
      location: '',
    });
    expect(await fromRemote([`${http}/mirror/flatcar/stable/amd64-usr/current/version.txt`])).toEqual({
      status: 404,
      location: '',
    });
  });

  it(
    'still counts the box itself as local when it connects to its own ' +
      'network address (the CLI with http.listen set)',
    async () => {
      const res = await k.api('GET', '/api/machines'); // from this namespace to remote.localIp
      expect(res.status).toBe(200);
    },
  );

  it('serves that remote host the API over HTTPS with the pinned certificate', async () => {
    const out = await remote.curl([
      '--cacert',
      certFile(),
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `authorization: Bearer ${k.adminToken}`,
      `https://${remote.localIp}:${httpsPort}/api/machines`,
    ]);
    expect(out).toBe('200');
  });

  /** The namespace shares this file system, so its curl can pin the stored certificate. */
  const certFile = () => path.join(tlsDir(k), 'cert.pem');
});
