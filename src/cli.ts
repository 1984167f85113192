#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { applianceConfigPath, loadConfig, type KindlingConfig } from './config/index.js';
import { isKindlingError } from './errors.js';
import { checkAll } from './check.js';
import { parseMac } from './inventory/mac.js';
import { formatBytes, formatProgress, type ProgressEvent } from './mirror/index.js';
import { importDirectory } from './mirror/import-client.js';
import { startKindling } from './main.js';
import { createLogger } from './system/index.js';

const usage = `kindling: the network-boot server of a rack

  kindling serve [--config FILE]      run (default ${applianceConfigPath}, or built-in defaults in a checkout)
  kindling check [--config FILE]      validate configuration, profiles, machines.yaml and templates
  kindling machines [list]            list machines (talks to the running service)
  kindling machines show MAC
  kindling machines assign MAC PROFILE [--name NAME]
  kindling machines reinstall MAC
  kindling machines forget MAC
  kindling render MAC --as ipxe|ignition|cloud-config   what a machine would get now (secrets masked)
  kindling mirror sync [--source NAME]   sync the mirror now and show progress until it ends
  kindling mirror status                 sources, versions held, last sync
  kindling mirror import DIR [--source NAME]   verify and publish a release copied from a USB stick
`;

/** The config file to use: --config, else the appliance's file if present, else the embedded defaults. */
function configFileFrom(flag: string | undefined): string | null {
  if (flag) return flag;
  return existsSync(applianceConfigPath) ? applianceConfigPath : null;
}

async function serve(configFlag: string | undefined): Promise<void> {
  const loaded = loadConfig(configFileFrom(configFlag));
  const logger = createLogger(loaded.config.log.level);
  const kindling = await startKindling({ config: loaded.config, configFile: loaded.file, logger });
  process.stdout.write(`\nKindling is running.\n  Boot script:   ${kindling.httpUrl}/boot.ipxe\n  Health:        ${kindling.httpUrl}/healthz\n  Setup page:    ${kindling.httpsUrl}/ (self-signed; SHA-256 ${kindling.tlsFingerprint})\n  Admin API:     ${kindling.httpUrl}/api/machines (token in ${path.join(loaded.config.dataDir, 'state', 'admin-token')}; HTTPS from other hosts)\n  Profiles:      ${path.join(loaded.config.dataDir, 'config', 'profiles')}\n  Stop with Ctrl-C.\n\n`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    kindling.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading profiles and machines.yaml');
    kindling.declarations.reload();
  });
}

/** A small client for the running service's admin API. */
async function api(config: KindlingConfig, method: string, url: string, body?: unknown): Promise<unknown> {
  const token = readFileSync(path.join(config.dataDir, 'state', 'admin-token'), 'utf8').trim();
  const host = config.http.listen === '0.0.0.0' ? '127.0.0.1' : config.http.listen;
  const res = await fetch(`http://${host}:${config.http.port}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      /* not JSON: show as is */
    }
    throw new Error(message);
  }
  return (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function machines(config: KindlingConfig, args: string[], name: string | undefined): Promise<void> {
  const [sub = 'list', macArg, profile] = args;
  const mac = () => parseMac(macArg ?? '');
  switch (sub) {
    case 'list': {
      const { machines: list } = (await api(config, 'GET', '/api/machines')) as { machines: Array<Record<string, unknown> & { facts: Record<string, unknown> }> };
      const rows = [['MAC', 'NAME', 'STATE', 'PROFILE', 'IP', 'ARCH', 'SINCE']];
      for (const m of list) rows.push([String(m['mac']), String(m['name'] ?? '-'), String(m['state']), String(m['profile'] ?? '-'), String(m['reservedIp'] ?? m.facts['lastIp'] ?? '-'), String(m.facts['arch'] ?? '-'), String(m['stateSince'])]);
      process.stdout.write(table(rows));
      return;
    }
    case 'show':
      process.stdout.write(JSON.stringify(await api(config, 'GET', `/api/machines/${mac()}`), null, 2) + '\n');
      return;
    case 'assign':
      if (!profile) throw new Error('usage: kindling machines assign MAC PROFILE [--name NAME]');
      process.stdout.write(JSON.stringify(await api(config, 'POST', `/api/machines/${mac()}/assign`, { profile, ...(name ? { name } : {}) }), null, 2) + '\n');
      return;
    case 'reinstall':
      process.stdout.write(JSON.stringify(await api(config, 'POST', `/api/machines/${mac()}/reinstall`), null, 2) + '\n');
      return;
    case 'forget':
      process.stdout.write(JSON.stringify(await api(config, 'DELETE', `/api/machines/${mac()}`), null, 2) + '\n');
      return;
    default:
      throw new Error(`unknown machines command "${sub}"\n\n${usage}`);
  }
}

interface MirrorStatus {
  running: boolean;
  schedule: string | null;
  nextRun: string | null;
  sources: Array<{ name: string; current: string | null; versions: Array<{ version: string; bytes: number }>; lastSync: { ok?: boolean; error?: { message: string } | null; finishedAt?: string } | null }>;
  progress: ProgressEvent[];
}

async function mirrorImport(config: KindlingConfig, dir: string | undefined, source: string | undefined): Promise<number> {
  if (!dir) throw new Error('usage: kindling mirror import DIR [--source NAME]');
  const token = readFileSync(path.join(config.dataDir, 'state', 'admin-token'), 'utf8').trim();
  const host = config.http.listen === '0.0.0.0' ? '127.0.0.1' : config.http.listen;
  const outcome = await importDirectory({ dir: path.resolve(dir), baseUrl: `http://${host}:${config.http.port}`, token, ...(source ? { source } : {}), onProgress: (e) => process.stdout.write(`${formatProgress(e)}\n`) });
  process.stdout.write(`${outcome.source}: ${outcome.result === 'published' ? 'verified and published' : 'already held; current'} ${outcome.version}\n`);
  return 0;
}

async function mirrorCommand(config: KindlingConfig, sub: string | undefined, source: string | undefined, rest: string[] = []): Promise<number> {
  const show = (state: MirrorStatus) => {
    const rows = [['SOURCE', 'CURRENT', 'VERSIONS HELD', 'LAST SYNC']];
    for (const s of state.sources) {
      const last = s.lastSync ? `${s.lastSync.finishedAt ?? ''} ${s.lastSync.error ? `failed: ${s.lastSync.error.message}` : 'ok'}` : 'never';
      rows.push([s.name, s.current ?? '-', s.versions.map((v) => `${v.version} (${formatBytes(v.bytes)})`).join(', ') || '-', last]);
    }
    process.stdout.write(table(rows) + `schedule: ${state.schedule ?? 'off'}${state.nextRun ? `, next run ${state.nextRun}` : ''}\n`);
  };
  if (sub === 'status' || sub === undefined) {
    show((await api(config, 'GET', '/api/mirror')) as MirrorStatus);
    return 0;
  }
  if (sub === 'import') return mirrorImport(config, rest[0], source);
  if (sub !== 'sync') throw new Error(`unknown mirror command "${sub}"\n\n${usage}`);
  await api(config, 'POST', '/api/mirror/sync', source ? { source } : {});
  // One request a second is nothing for the Pi, and needs no stream in a terminal.
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const state = (await api(config, 'GET', '/api/mirror')) as MirrorStatus;
    for (const event of state.progress) process.stdout.write(`${formatProgress(event)}\n`);
    if (!state.running) {
      show(state);
      return state.sources.some((s) => (!source || s.name === source) && s.lastSync?.error) ? 1 : 0;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, as: { type: 'string' }, name: { type: 'string' }, source: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'serve':
      await serve(values.config);
      return -1; // keeps running
    case 'check': {
      const problems = await checkAll(configFileFrom(values.config));
      if (problems.length === 0) {
        process.stdout.write('configuration, profiles, machines.yaml and templates are valid\n');
        return 0;
      }
      process.stderr.write(`${problems[0]}\n`);
      if (problems.length > 1) process.stderr.write(`(${problems.length - 1} more problem(s) after this one)\n`);
      return 1;
    }
    case 'machines':
      await machines(loadConfig(configFileFrom(values.config)).config, rest, values.name);
      return 0;
    case 'mirror':
      return mirrorCommand(loadConfig(configFileFrom(values.config)).config, rest[0], values.source, rest.slice(1));
    case 'render': {
      const as = values.as ?? 'ipxe';
      const config = loadConfig(configFileFrom(values.config)).config;
      const rendered = await api(config, 'GET', `/api/machines/${parseMac(rest[0] ?? '')}/render?as=${encodeURIComponent(as)}`);
      process.stdout.write(typeof rendered === 'string' ? rendered : `${JSON.stringify(rendered, null, 2)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kindling: ${isKindlingError(err) ? `${err.message} [${err.code}]` : (err as Error).message}\n`);
    // 78 is EX_CONFIG (sysexits.h): kindling.service's RestartPreventExitStatus=78 stops a
    // broken configuration from hiding in a restart loop; the error stays in the journal.
    process.exitCode = isKindlingError(err) && err.code.startsWith('CONFIG_') ? 78 : 1;
  },
);
