import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MirrorState } from '../api-client/index.js';
import { importDirectory } from '../mirror/import-client.js';
import { formatBytes, formatProgress } from '../mirror/progress.js';
import { table } from './table.js';
import type { ServiceTarget } from './target.js';
import { usage } from './usage.js';

function show(state: MirrorState): void {
  const rows = [['SOURCE', 'CURRENT', 'VERSIONS HELD', 'LAST SYNC']];
  for (const s of state.sources) {
    const last = s.lastSync
      ? `${s.lastSync.finishedAt ?? ''} ${s.lastSync.error ? `failed: ${s.lastSync.error.message}` : 'ok'}`
      : 'never';
    rows.push([
      s.name,
      s.current ?? '-',
      s.versions.map((v) => `${v.version} (${formatBytes(v.bytes)})`).join(', ') || '-',
      last,
    ]);
  }
  process.stdout.write(
    table(rows) + `schedule: ${state.schedule ?? 'off'}${state.nextRun ? `, next run ${state.nextRun}` : ''}\n`,
  );
}

/** `kindling mirror import DIR`: uploads a copied release; the service verifies and publishes it. */
async function mirrorImport(
  target: ServiceTarget,
  dir: string | undefined,
  source: string | undefined,
): Promise<number> {
  if (!dir) throw new Error('usage: kindling mirror import DIR [--source NAME]');
  const token = readFileSync(target.tokenFile, 'utf8').trim();
  const outcome = await importDirectory({
    dir: path.resolve(dir),
    baseUrl: target.url,
    token,
    ...(source ? { source } : {}),
    onProgress: (e) => process.stdout.write(`${formatProgress(e)}\n`),
  });
  const done = outcome.result === 'published' ? 'verified and published' : 'already held; current';
  process.stdout.write(`${outcome.source}: ${done} ${outcome.version}\n`);
  return 0;
}

/** `kindling mirror status|sync|import`: sync and import run in the service; this follows them. */
export async function mirrorCommand(
  target: ServiceTarget,
  sub: string | undefined,
  source: string | undefined,
  rest: string[] = [],
): Promise<number> {
  const { client } = target;
  if (sub === 'status' || sub === undefined) {
    show(await client.mirror());
    return 0;
  }
  if (sub === 'import') return mirrorImport(target, rest[0], source);
  if (sub !== 'sync') throw new Error(`unknown mirror command "${sub}"\n\n${usage}`);
  await client.mirrorSync(source);
  // One request a second is nothing for the Pi, and needs no stream in a terminal.
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const state = await client.mirror();
    for (const event of state.progress) process.stdout.write(`${formatProgress(event)}\n`);
    if (!state.running) {
      show(state);
      return state.sources.some((s) => (!source || s.name === source) && s.lastSync?.error) ? 1 : 0;
    }
  }
}
