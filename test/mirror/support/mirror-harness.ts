import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { MirrorSource } from '../../../src/config/schema.js';
import {
  openMirror,
  mirrorAdminRoutes,
  mirrorFileRoutes,
  type Mirror,
  type MirrorOptions,
} from '../../../src/mirror/index.js';
import type { FakeUpstream } from './fake-upstream.js';

export interface Harness {
  dataDir: string;
  mirror: Mirror;
  app: FastifyInstance;
  logs: Array<Record<string, unknown>>;
  /** keepData: leave the data directory for a harness opened on it next. */
  close(keepData?: boolean): Promise<void>;
}

export function flatcarSource(
  upstream: FakeUpstream,
  extra: Partial<Extract<MirrorSource, { os: 'flatcar' }>> = {},
): MirrorSource {
  return {
    name: 'flatcar-stable',
    os: 'flatcar',
    channel: 'stable',
    arch: 'amd64',
    baseUrl: `${upstream.url}/stable`,
    keys: upstream.signer.armoredPublic,
    ...extra,
  };
}

export function fcosSource(
  upstream: FakeUpstream,
  extra: Partial<Extract<MirrorSource, { os: 'fcos' }>> = {},
): MirrorSource {
  return {
    name: 'fcos-stable',
    os: 'fcos',
    stream: 'stable',
    arch: 'x86_64',
    baseUrl: upstream.url,
    keys: upstream.signer.armoredPublic,
    ...extra,
  };
}

export async function makeHarness(
  options: {
    sources: MirrorSource[];
    keep?: number;
    schedule?: string | null;
    dataDir?: string;
    proxy?: string | null;
    caFile?: string | null;
  } & Partial<Omit<MirrorOptions, 'config' | 'dataDir' | 'logger'>>,
): Promise<Harness> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'kindling-mirror-')));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const { sources, keep, schedule, dataDir: _d, proxy, caFile, ...rest } = options;
  const mirror = await openMirror({
    config: { schedule: schedule ?? null, keep: keep ?? 2, sources, proxy: proxy ?? null, caFile: caFile ?? null },
    env: {},
    dataDir,
    logger,
    retry: { attempts: 1, delayMs: 10 },
    idleTimeoutMs: 5_000,
    ...rest,
  });
  const app = fastify({ logger: false });
  mirrorFileRoutes(app, { mirror });
  app.register(async (api) => mirrorAdminRoutes(api, mirror), { prefix: '/api' });
  await app.ready();
  return {
    dataDir,
    mirror,
    app,
    logs,
    close: async (keepData = false) => {
      await mirror.close();
      await app.close();
      // A reopened harness owns the directory too; a mount point stays for its umount.
      if (!keepData) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
