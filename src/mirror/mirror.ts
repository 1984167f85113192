import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type * as openpgp from 'openpgp';
import type { KindlingConfig } from '../config/schema.js';
import { isKindlingError, KindlingError } from '../errors.js';
import type { ServiceStatus } from '../system/service-status.js';
import { JsonDocument } from '../store/index.js';
import type { WriteStreamFactory } from './download.js';
import { fedoraSigningKeys } from './keys/fedora-signing.js';
import { flatcarImageSigningKey } from './keys/flatcar-image-signing.js';
import { chooseImportSource, directoryTransport, importName } from './import.js';
import { sourceDir, sourceRelativeDir, stagingDir, stagingDirName } from './layout.js';
import { loadSourceIndex, type SourceIndex } from './published.js';
import { checkSchedule, startSchedule, type Schedule } from './schedule.js';
import { resolveNetwork, type UpstreamNetwork } from './proxy.js';
import { resolveRelease, syncSource, type RetryPolicy } from './sync-source.js';
import type { MirrorSource, ProgressEvent, SyncOutcome, VersionManifest } from './types.js';
import { readKeys } from './verify.js';

type MirrorConfig = KindlingConfig['mirror'];

export interface MirrorOptions {
  config: Omit<MirrorConfig, 'proxy' | 'caFile'> & Partial<Pick<MirrorConfig, 'proxy' | 'caFile'>>;
  /** The environment HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  dataDir: string;
  logger: Logger;
  /** Versions machines in state `installing` use; retention never deletes them. */
  inUse?: () => ReadonlySet<string>;
  /** The sources to mirror, asked each time (the setup page can change them); default config.sources. */
  currentSources?: () => MirrorSource[];
  retry?: RetryPolicy;
  idleTimeoutMs?: number;
  writeStream?: WriteStreamFactory;
  beforeStep?: (step: 'publish' | 'current', version: string) => Promise<void>;
}

/** A file the mirror may serve: listed in a published version's manifest. */
export interface ServedFile {
  path: string;
  size: number;
  sha256: string;
  lastModified: Date;
  /** Reached through `current`, so its content changes when a new version is published. */
  viaCurrent: boolean;
}

export interface SourceState {
  name: string;
  os: MirrorSource['os'];
  channel: string;
  arch: string;
  /** URL path under which the versions are served. */
  path: string;
  current: string | null;
  versions: Array<{ version: string; publishedAt: string; signatureChecked: boolean; files: number; bytes: number }>;
  lastSync: SyncOutcome | null;
}

export interface MirrorState {
  running: boolean;
  schedule: string | null;
  nextRun: string | null;
  keep: number;
  sources: SourceState[];
  progress: ProgressEvent[];
}

interface Persisted {
  lastSync: Record<string, SyncOutcome>;
}

export class Mirror {
  /** `progress` (ProgressEvent) while downloading, `outcome` (SyncOutcome) per source, `idle` when a sync ends. */
  readonly events = new EventEmitter();
  readonly root: string;
  private readonly indexes = new Map<string, SourceIndex>();
  private readonly progress = new Map<string, ProgressEvent>();
  private running: Promise<SyncOutcome[]> | null = null;
  private upload: { id: string; dir: string } | null = null;
  private schedule: Schedule | null = null;
  private readonly abort = new AbortController();
  readonly network: UpstreamNetwork;

  constructor(
    private readonly options: MirrorOptions,
    private readonly persisted: JsonDocument<Persisted>,
  ) {
    this.network = resolveNetwork(options.config, options.env);
    this.root = path.join(options.dataDir, 'mirror');
    // SSE clients come and go; more than the default 10 listeners is normal, not a leak.
    this.events.setMaxListeners(0);
  }

  get sources(): MirrorSource[] {
    return this.options.currentSources?.() ?? this.options.config.sources;
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  async refresh(): Promise<void> {
    for (const source of this.sources)
      this.indexes.set(source.name, await loadSourceIndex(sourceDir(this.root, source)));
  }

  /** Starts a sync of all sources (or one) and resolves when it ends. Refused while one runs. */
  sync(options: { source?: string } = {}): Promise<SyncOutcome[]> {
    if (this.running)
      throw new KindlingError(
        'MIRROR_SYNC_RUNNING',
        'a mirror sync is already running; wait for it to finish (GET /api/mirror shows its progress)',
      );
    const chosen = options.source ? this.sources.filter((s) => s.name === options.source) : this.sources;
    if (options.source && chosen.length === 0) {
      throw new KindlingError(
        'MIRROR_SOURCE_UNKNOWN',
        `no mirror source is named ${options.source}; expected one ` +
          `of ${this.sources.map((s) => s.name).join(', ') || '(none configured)'}`,
        { source: options.source },
      );
    }
    const run = this.runSources(chosen).finally(() => {
      this.running = null;
      this.progress.clear();
      this.events.emit('idle');
    });
    this.running = run;
    return run;
  }

  private async runSources(sources: MirrorSource[]): Promise<SyncOutcome[]> {
    const outcomes: SyncOutcome[] = [];
    for (const source of sources) {
      if (this.abort.signal.aborted) break;
      const { cause: _cause, ...outcome } = (await this.runOne(source)) as SyncOutcome & { cause?: unknown };
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /**
   * Imports a release copied from a USB stick (src/mirror/import.ts): the sync pipeline
   * with the directory standing in for upstream, so the same checks and the same atomic
   * publish. Rejects with the typed error (file and reason) when the copy is refused.
   */
  importRelease(options: { dir: string; source?: string; consume?: boolean }): Promise<SyncOutcome> {
    if (this.running)
      throw new KindlingError(
        'MIRROR_SYNC_RUNNING',
        'a mirror sync or import is already running; wait for it to finish (GET /api/mirror shows its progress)',
      );
    const run = (async () => {
      const source = await chooseImportSource(options.dir, this.sources, options.source);
      const outcome = await this.runOne(source, { dir: options.dir, consume: options.consume ?? false });
      return [outcome];
    })().finally(() => {
      this.running = null;
      this.progress.clear();
      this.events.emit('idle');
    });
    this.running = run;
    return run.then(([outcome]) => {
      const o = outcome as SyncOutcome & { cause?: unknown };
      if (!o.ok) throw o.cause;
      return o;
    });
  }

  /** Starts an upload for the page or the CLI: files PUT one by one, then imported (routes.ts). */
  async openUpload(): Promise<{ id: string; dir: string }> {
    if (this.upload) await fs.rm(this.upload.dir, { recursive: true, force: true });
    const id = randomBytes(8).toString('hex');
    const dir = path.join(this.root, stagingDirName, `.upload-${id}`);
    await fs.mkdir(dir, { recursive: true });
    this.upload = { id, dir };
    return this.upload;
  }

  uploadDir(id: string): string {
    if (!this.upload || this.upload.id !== id)
      throw new KindlingError(
        'REQUEST_INVALID',
        `no import upload ${id.slice(0, 32)} is open (a newer one replaced it, or Kindling restarted); start again`,
        { upload: id.slice(0, 32) },
      );
    return this.upload.dir;
  }

  /**
   * What an import needs, read from the metadata already in `dir`: the files to copy, so a stick's extras are not
   * uploaded.
   */
  async planImport(options: {
    dir: string;
    source?: string;
  }): Promise<{ source: string; version: string; files: string[] }> {
    const source = await chooseImportSource(options.dir, this.sources, options.source);
    const release = await resolveRelease({ source, transport: directoryTransport({ dir: options.dir }) });
    const names = release.files.flatMap((f) => [
      f.name,
      ...(f.signatureUrl ? [importName(f.signatureUrl, options.dir, source.name)] : []),
    ]);
    return { source: source.name, version: release.version, files: names };
  }

  async closeUpload(id: string): Promise<void> {
    if (this.upload?.id !== id) return;
    await fs.rm(this.upload.dir, { recursive: true, force: true });
    this.upload = null;
  }

  private async runOne(source: MirrorSource, fromDir?: { dir: string; consume: boolean }): Promise<SyncOutcome> {
    const { logger } = this.options;
    const startedAt = new Date().toISOString();
    let outcome: SyncOutcome;
    let cause: unknown;
    try {
      const result = await syncSource({
        root: this.root,
        source,
        keys: await this.keysFor(source),
        keep: this.options.config.keep,
        inUse: this.options.inUse ?? (() => new Set<string>()),
        logger,
        onProgress: (event) => {
          this.progress.set(`${event.source}/${event.file}`, event);
          this.events.emit('progress', event);
        },
        ...(this.options.retry ? { retry: this.options.retry } : {}),
        ...(this.options.idleTimeoutMs ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
        ...(this.options.writeStream ? { writeStream: this.options.writeStream } : {}),
        ...(this.options.beforeStep ? { beforeStep: this.options.beforeStep } : {}),
        signal: this.abort.signal,
        network: this.network,
        ...(fromDir ? { transport: directoryTransport(fromDir) } : {}),
      });
      outcome = {
        source: source.name,
        ok: true,
        result: result.result,
        version: result.version,
        startedAt,
        finishedAt: new Date().toISOString(),
        error: null,
        ...(fromDir ? { via: 'import' as const } : {}),
      };
    } catch (err) {
      cause = err;
      // An import that was refused leaves nothing behind: its verified files stay in no directory.
      if (fromDir) await fs.rm(stagingDir(this.root, source), { recursive: true, force: true });
      const error = isKindlingError(err)
        ? { code: err.code, message: err.message }
        : { code: 'MIRROR_WRITE', message: `mirror source ${source.name}: ${(err as Error).message}` };
      logger.error(
        { source: source.name, code: error.code, err: error.message },
        'mirror: sync failed; the previous version stays current',
      );
      outcome = {
        source: source.name,
        ok: false,
        result: 'failed',
        version: null,
        startedAt,
        finishedAt: new Date().toISOString(),
        error,
        ...(fromDir ? { via: 'import' as const } : {}),
      };
    }
    this.indexes.set(source.name, await loadSourceIndex(sourceDir(this.root, source)));
    this.persisted.data.lastSync[source.name] = outcome;
    await this.persisted
      .set(this.persisted.data)
      .catch((err) => logger.warn({ err }, 'mirror: cannot record the sync result'));
    this.events.emit('outcome', outcome);
    return cause === undefined ? outcome : Object.assign({}, outcome, { cause });
  }

  private async keysFor(source: MirrorSource): Promise<openpgp.PublicKey[] | null> {
    if (source.keys) return readKeys(source.name, source.keys, (file) => fs.readFile(file, 'utf8'));
    // Bundled keys: Flatcar's image signing key, and the Fedora release keys that
    // coreos-installer trusts (they rotate with each Fedora release; `keys:` overrides).
    const bundled = source.os === 'flatcar' ? flatcarImageSigningKey : fedoraSigningKeys;
    return readKeys(source.name, bundled, () => Promise.reject(new Error('bundled')));
  }

  /** Starts a sync now in the background (POST /api/mirror/sync). */
  startSync(options: { source?: string } = {}): { sources: string[] } {
    const run = this.sync(options);
    run.catch((err) => this.options.logger.error({ err }, 'mirror: sync stopped unexpectedly'));
    return { sources: options.source ? [options.source] : this.sources.map((s) => s.name) };
  }

  /** Runs the sync on `mirror.schedule`; a run still going when the next is due is skipped, never doubled. */
  startSchedule(): void {
    if (this.schedule || !this.options.config.schedule || this.sources.length === 0) return;
    this.schedule = startSchedule(this.options.config.schedule, () => {
      if (this.running) {
        this.options.logger.info('mirror: scheduled sync skipped; the previous one is still running');
        return;
      }
      this.startSync();
    });
  }

  /** Resolves a path under /mirror/ (already split on '/') to a verified file, or null. */
  resolve(segments: string[]): ServedFile | null {
    if (segments.length !== 5) return null;
    const [version, name] = [segments[3] as string, segments[4] as string];
    const prefix = segments.slice(0, 3).join('/');
    const source = this.sources.find((s) => sourceRelativeDir(s) === prefix);
    if (!source) return null;
    const index = this.indexes.get(source.name);
    if (!index) return null;
    const viaCurrent = version === 'current';
    const resolved = viaCurrent ? index.current : version;
    const manifest = resolved ? index.versions.get(resolved) : undefined;
    if (!manifest || !Object.hasOwn(manifest.files, name)) return null;
    const entry = manifest.files[name] as VersionManifest['files'][string];
    return {
      path: path.join(sourceDir(this.root, source), manifest.version, entry.file),
      size: entry.size,
      sha256: entry.sha256,
      lastModified: new Date(manifest.publishedAt),
      viaCurrent,
    };
  }

  state(): MirrorState {
    return {
      running: this.running !== null,
      schedule: this.options.config.schedule,
      nextRun: this.schedule?.nextRun()?.toISOString() ?? null,
      keep: this.options.config.keep,
      progress: [...this.progress.values()],
      sources: this.sources.map((source) => {
        const index = this.indexes.get(source.name);
        return {
          name: source.name,
          os: source.os,
          channel: source.os === 'flatcar' ? source.channel : source.stream,
          arch: source.arch,
          path: `/mirror/${sourceRelativeDir(source)}`,
          current: index?.current ?? null,
          versions: [...(index?.versions.values() ?? [])]
            .sort((a, b) => b.publishedAt.localeCompare(a.publishedAt))
            .map((m) => ({
              version: m.version,
              publishedAt: m.publishedAt,
              signatureChecked: m.signatureChecked,
              files: new Set(Object.values(m.files).map((f) => f.file)).size,
              bytes: sumBytes(m),
            })),
          lastSync: this.persisted.data.lastSync[source.name] ?? null,
        };
      }),
    };
  }

  /**
   * For /healthz: failed when a source has nothing to serve after a failed sync, degraded when a sync failed but an
   * older version is served.
   */
  status(): ServiceStatus {
    if (this.sources.length === 0) return { name: 'mirror', state: 'off', detail: 'no mirror sources configured' };
    const states = this.state().sources;
    const broken = states.filter((s) => s.lastSync && !s.lastSync.ok);
    const empty = broken.filter((s) => s.current === null);
    const held = states.map((s) => `${s.name} ${s.current ?? '(none yet)'}`).join(', ');
    if (empty.length > 0)
      return {
        name: 'mirror',
        state: 'failed',
        detail: `nothing to serve for ${empty.map((s) => `${s.name}: ${s.lastSync?.error?.message}`).join('; ')}`,
      };
    if (broken.length > 0)
      return {
        name: 'mirror',
        state: 'degraded',
        detail: `serving ${held}; last sync failed: ${broken.map((s) => s.lastSync?.error?.message).join('; ')}`,
      };
    return { name: 'mirror', state: 'running', detail: `${this.running ? 'syncing; ' : ''}serving ${held}` };
  }

  /** Stops the schedule and any download (a partial file stays for the next run to resume). */
  async close(): Promise<void> {
    this.schedule?.stop();
    this.schedule = null;
    this.abort.abort();
    await this.running?.catch(() => undefined);
    await this.persisted.flush().catch(() => undefined);
  }
}

function sumBytes(m: VersionManifest): number {
  const seen = new Map<string, number>();
  for (const f of Object.values(m.files)) seen.set(f.file, f.size);
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

/** Opens the mirror: reads what is published, cleans temp files a crash left. Never contacts upstream by itself. */
export async function openMirror(options: MirrorOptions): Promise<Mirror> {
  if (options.config.schedule) checkSchedule(options.config.schedule);
  const root = path.join(options.dataDir, 'mirror');
  await fs.mkdir(path.join(root, stagingDirName), { recursive: true });
  // An upload is tied to the process that opened it; a restart ends it.
  for (const name of await fs.readdir(path.join(root, stagingDirName))) {
    if (name.startsWith('.upload-'))
      await fs.rm(path.join(root, stagingDirName, name), { recursive: true, force: true });
  }
  const persisted = await JsonDocument.open<Persisted>(
    { file: path.join(root, '.status.json'), coalesceMs: 0 },
    { lastSync: {} },
  );
  persisted.data.lastSync ??= {};
  const mirror = new Mirror(options, persisted);
  await mirror.refresh();
  return mirror;
}
