import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's `ignition` package; .ci/run installs it. */
export const ignitionValidateBin = '/usr/bin/ignition-validate';
export const haveIgnitionValidate = existsSync(ignitionValidateBin);

/** Runs the real ignition-validate on a config; returns its complaints ('' when it accepts). */
export function ignitionValidate(config: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kindling-ign-'));
  const file = path.join(dir, 'config.ign');
  writeFileSync(file, config);
  try {
    const output = execFileSync(ignitionValidateBin, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, output };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every file's decoded contents and every unit's text in an Ignition config, for searching. */
export function ignitionText(config: string): string {
  const ign = JSON.parse(config) as {
    storage?: { files?: Array<{ contents?: { source?: string } }> };
    systemd?: { units?: Array<{ contents?: string }> };
  };
  const files = (ign.storage?.files ?? []).map((f) => decodeDataUrl(f.contents?.source ?? ''));
  const units = (ign.systemd?.units ?? []).map((u) => u.contents ?? '');
  return [...files, ...units].join('\n');
}

function decodeDataUrl(url: string): string {
  const m = /^data:([^,]*),(.*)$/s.exec(url);
  if (!m) return '';
  return m[1]!.endsWith(';base64') ? Buffer.from(m[2]!, 'base64').toString('utf8') : decodeURIComponent(m[2]!);
}
