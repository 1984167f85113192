import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { sampleProfile } from '../../src/inventory/sample.js';
import { startKindling, type RunningKindling } from '../../src/main.js';

export interface TestKindling extends RunningKindling {
  dataDir: string;
  /** DATADIR/kindling.yaml when started with `configFile: true`. */
  configFile: string | null;
  /** fetch against the running service. */
  get(url: string, init?: RequestInit): Promise<Response>;
  /** fetch the admin API with the admin token. */
  api(method: string, url: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts a real Kindling on 127.0.0.1 with an ephemeral port and a fresh data directory. */
export async function startTestKindling(
  options: {
    files?: Record<string, string>;
    config?: Record<string, unknown>;
    dataDir?: string;
    /** Write the configuration to DATADIR/kindling.yaml (with a comment) and start from it, as the appliance does. */
    configFile?: boolean;
    probeTimeoutMs?: number;
  } = {},
): Promise<TestKindling> {
  // A given dataDir is a restart: the same state, read again by a new process's code path.
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'kindling-test-'));
  for (const [name, text] of Object.entries(options.files ?? {})) {
    const file = path.join(dataDir, 'config', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const data = {
    dataDir,
    http: { listen: '127.0.0.1', port: 0, httpsPort: 0 },
    tftp: { enabled: false },
    dhcp: { mode: 'off' },
    mirror: { schedule: null, sources: [] },
    ...options.config,
  };
  let configFile: string | null = null;
  let config = parseConfig(data, 'test', dataDir);
  if (options.configFile) {
    configFile = path.join(dataDir, 'kindling.yaml');
    writeFileSync(
      configFile,
      `# Written by test/support/kindling.ts; this comment must survive a save from the page.\n${stringify(data)}`,
    );
    config = loadConfig(configFile).config;
  }
  const kindling = await startKindling({
    config,
    configFile,
    probeTimeoutMs: options.probeTimeoutMs,
    logger: pino({ level: process.env['KINDLING_TEST_LOG'] ?? 'silent' }),
  });
  return {
    ...kindling,
    dataDir,
    configFile,
    get: (url, init) => fetch(`${kindling.httpUrl}${url}`, init),
    api: (method, url, body) =>
      fetch(`${kindling.httpUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${kindling.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    stop: async () => {
      await kindling.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const sharedKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3kPmkz0l0bKcD8zUe1kq8n3u3Zp9oN0w1v2yVb6cY ops@rack';

/** The sample profile a fresh data directory gets (the seed guides' rack), with the shared key. */
export const flatcarInstallProfile = sampleProfile.replace(/ssh-ed25519 [^"]+/, sharedKey);
