import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type * as openpgp from 'openpgp';
import { isKindlingError, KindlingError } from '../errors.js';
import { removeStaleTemps, writeFileAtomic } from '../store/index.js';
import { download, type DownloadInput, type WriteStreamFactory } from './download.js';
import { fcosRelease, streamUrl } from './fcos.js';
import { flatcarRelease, versionTxtUrl } from './flatcar.js';
import { getBytes, type RequestOptions, type UpstreamNetwork } from './http-client.js';
import { manifestName, sourceDir, stagingDir } from './layout.js';
import { ProgressMeter } from './progress.js';
import { loadSourceIndex, publishVersion, removeVersion, setCurrent } from './published.js';
import { versionsToRemove } from './retention.js';
import type { MirrorSource, ProgressEvent, Release, VersionManifest } from './types.js';
import { verifyFile } from './verify.js';

export interface RetryPolicy {
  attempts: number;
  delayMs: number;
}

/** Transient faults (a reset connection, a 503) usually pass; three tries with a pause ride them out. */
export const defaultRetry: RetryPolicy = { attempts: 3, delayMs: 2_000 };

/** Where a release's bytes come from: upstream over HTTP, or a directory copied from a USB stick (import.ts). */
export interface Transport {
  getBytes(url: string, options: RequestOptions & { maxBytes: number }): Promise<Buffer>;
  download(input: DownloadInput): Promise<{ size: number }>;
}

export const httpTransport: Transport = { getBytes, download: (input) => download(input) };

export interface SyncSourceInput {
  root: string;
  source: MirrorSource;
  /** Trusted keys, or null to skip signature checks (an FCOS source without `keys`). */
  keys: openpgp.PublicKey[] | null;
  keep: number;
  inUse: () => ReadonlySet<string>;
  logger: Logger;
  onProgress: (event: ProgressEvent) => void;
  retry?: RetryPolicy;
  idleTimeoutMs?: number;
  writeStream?: WriteStreamFactory;
  signal?: AbortSignal;
  /** Default: upstream over HTTP. */
  transport?: Transport;
  /** Proxy and CA bundle for upstream (mirror.proxy, mirror.caFile, HTTPS_PROXY). */
  network?: UpstreamNetwork;
  /** Test seam: called before each publish step, so a test can kill the process right there. */
  beforeStep?: (step: 'publish' | 'current', version: string) => Promise<void>;
}

export interface SyncSourceResult {
  version: string;
  result: 'published' | 'current';
  removed: string[];
}

const maxMetadataBytes = 8 << 20;
/** The mirror is what nodes download: world-readable, unlike state. */
const publicMode = 0o644;
const maxSignatureBytes = 64 << 10;

type NetInput = Pick<SyncSourceInput, 'idleTimeoutMs' | 'signal' | 'network'>;

function net(input: NetInput): { idleTimeoutMs?: number; signal?: AbortSignal; network?: UpstreamNetwork } {
  return {
    ...(input.idleTimeoutMs ? { idleTimeoutMs: input.idleTimeoutMs } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.network ? { network: input.network } : {}),
  };
}

export async function resolveRelease(
  input: Pick<SyncSourceInput, 'source' | 'transport'> & NetInput,
): Promise<Release> {
  const { source } = input;
  const transport = input.transport ?? httpTransport;
  const options = { source: source.name, ...net(input), maxBytes: maxMetadataBytes };
  if (source.os === 'flatcar') {
    const text = (await transport.getBytes(versionTxtUrl(source), { ...options, file: 'version.txt' })).toString(
      'utf8',
    );
    return flatcarRelease(source, text);
  }
  const text = (await transport.getBytes(streamUrl(source), { ...options, file: `${source.stream}.json` })).toString(
    'utf8',
  );
  return fcosRelease(source, text);
}

/**
 * One source: find upstream's current version, fetch what is missing into staging,
 * verify every file, then publish the version directory and flip `current`. Until the
 * last step the previous version stays current and served.
 */
export async function syncSource(input: SyncSourceInput): Promise<SyncSourceResult> {
  const { source, logger } = input;
  const release = await resolveRelease(input);
  const dir = sourceDir(input.root, source);
  const index = await loadSourceIndex(dir);
  if (index.versions.has(release.version)) {
    if (index.current !== release.version) {
      await input.beforeStep?.('current', release.version);
      await setCurrent(dir, release.version);
    }
    const removed = await applyRetention(input, dir, release.version);
    return { version: release.version, result: 'current', removed };
  }

  const stageRoot = stagingDir(input.root, source);
  await fs.mkdir(stageRoot, { recursive: true });
  // Another version's leftovers can never be resumed into this one.
  for (const name of await fs.readdir(stageRoot)) {
    if (name !== release.version) await fs.rm(path.join(stageRoot, name), { recursive: true, force: true });
  }
  const stage = path.join(stageRoot, release.version);
  await fs.mkdir(stage, { recursive: true });
  logger.info({ source: source.name, version: release.version }, 'mirror: fetching a new version');
  try {
    await fetchInto(input, release, stage);
  } catch (err) {
    // A full disk also stops leases and state from being written: give the space back now.
    if (isKindlingError(err, 'MIRROR_DISK_FULL')) await fs.rm(stage, { recursive: true, force: true });
    throw err;
  }

  await removeStaleTemps(stage);
  await input.beforeStep?.('publish', release.version);
  await publishVersion(stage, dir, release.version);
  await input.beforeStep?.('current', release.version);
  await setCurrent(dir, release.version);
  logger.info(
    { source: source.name, version: release.version, previous: index.current },
    'mirror: published a new version; current points at it',
  );
  const removed = await applyRetention(input, dir, release.version);
  return { version: release.version, result: 'published', removed };
}

/** Downloads and verifies every file of `release` into `stage`, then writes the manifest that marks it complete. */
async function fetchInto(input: SyncSourceInput, release: Release, stage: string): Promise<void> {
  const { source } = input;
  const transport = input.transport ?? httpTransport;
  const files: VersionManifest['files'] = {};
  for (const file of release.files) {
    let signature: Uint8Array | null = null;
    if (file.signatureUrl) {
      const sigPath = path.join(stage, `${file.name}.sig`);
      signature = await fs.readFile(sigPath).catch(() => null);
      if (!signature) {
        signature = await withRetry(input, () =>
          transport.getBytes(file.signatureUrl as string, {
            source: source.name,
            file: `${file.name}.sig`,
            maxBytes: maxSignatureBytes,
            ...net(input),
          }),
        );
        await writeFileAtomic(path.join(stage, `${file.name}.sig`), signature, publicMode);
      }
    } else if (input.keys) {
      throw new KindlingError(
        'MIRROR_METADATA',
        `mirror source ${source.name}: ${file.name}: expected a signature URL in the release metadata, found none`,
        { source: source.name, file: file.name },
      );
    }
    const final = path.join(stage, file.name);
    const partial = `${final}.partial`;
    const done = await fs.stat(final).then(
      () => true,
      () => false,
    );
    if (!done) {
      const meter = new ProgressMeter(
        { source: source.name, file: file.name, total: null, startBytes: 0 },
        input.onProgress,
      );
      let last = 0;
      await withRetry(input, () =>
        transport.download({
          source: source.name,
          name: file.name,
          url: file.url,
          partial,
          ...net(input),
          ...(input.writeStream ? { writeStream: input.writeStream } : {}),
          onBytes: (bytes, total) => {
            last = bytes;
            meter.setTotal(total);
            meter.update(bytes);
          },
        }),
      );
      meter.update(last, true);
    }
    const target = done ? final : partial;
    let verified;
    try {
      verified = await verifyFile({
        source: source.name,
        name: file.name,
        file: target,
        sha256: file.sha256,
        signature: input.keys ? signature : null,
        keys: input.keys ?? [],
      });
    } catch (err) {
      // A file that fails verification is not resumable; the signature may be the stale part.
      await fs.rm(target, { force: true });
      await fs.rm(path.join(stage, `${file.name}.sig`), { force: true });
      throw err;
    }
    if (!done) await fs.rename(partial, final);
    files[file.name] = { file: file.name, size: verified.size, sha256: verified.sha256 };
    if (signature)
      files[`${file.name}.sig`] = {
        file: `${file.name}.sig`,
        size: signature.length,
        sha256: createHash('sha256').update(signature).digest('hex'),
      };
  }
  for (const extra of release.extras) {
    await writeFileAtomic(path.join(stage, extra.name), extra.content, publicMode);
    files[extra.name] = {
      file: extra.name,
      size: Buffer.byteLength(extra.content),
      sha256: createHash('sha256').update(extra.content).digest('hex'),
    };
  }
  for (const [alias, target] of Object.entries(release.aliases)) {
    const entry = files[target];
    if (entry) files[alias] = entry;
  }
  const manifest: VersionManifest = {
    source: source.name,
    version: release.version,
    publishedAt: new Date().toISOString(),
    files,
    signatureChecked: input.keys !== null,
  };
  await writeFileAtomic(path.join(stage, manifestName), `${JSON.stringify(manifest, null, 2)}\n`, publicMode);
}

async function applyRetention(input: SyncSourceInput, dir: string, current: string): Promise<string[]> {
  const index = await loadSourceIndex(dir);
  const remove = versionsToRemove({
    versions: [...index.versions.values()].map((m) => ({ version: m.version, publishedAt: m.publishedAt })),
    current,
    keep: input.keep,
    inUse: input.inUse(),
  });
  for (const version of remove) {
    await removeVersion(dir, version);
    input.logger.info({ source: input.source.name, version }, 'mirror: removed an old version (mirror.keep)');
  }
  return remove;
}

function transient(err: unknown): boolean {
  if (isKindlingError(err, 'MIRROR_TRUNCATED')) return true;
  if (!isKindlingError(err, 'MIRROR_UPSTREAM')) return false;
  const status = err.details.status as number | undefined;
  return status === undefined || status >= 500 || status === 429;
}

async function withRetry<T>(input: SyncSourceInput, action: () => Promise<T>): Promise<T> {
  const policy = input.retry ?? defaultRetry;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (attempt >= policy.attempts || !transient(err) || input.signal?.aborted) throw err;
      input.logger.warn(
        { source: input.source.name, err: (err as Error).message, attempt },
        'mirror: transient upstream fault; trying again',
      );
      await new Promise((r) => setTimeout(r, policy.delayMs * attempt));
    }
  }
}
