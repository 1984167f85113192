// Bench: `kindling mirror import`'s work on a Flatcar release (three images, each with a
// detached rsa4096 signature as Flatcar's), against `sha256sum` + `gpg --verify` on the
// same files. "consume" is the upload path (files renamed into staging, then verified and
// published); "copy" reads from the directory, as from a stick, then verifies.
// Run: node --import tsx bench/mirror-import.ts [TOTAL_MB]
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openMirror } from '../src/mirror/index.js';

const totalMb = Number(process.argv[2] ?? 400);
const sizes: Record<string, number> = {
  'flatcar_production_pxe.vmlinuz': Math.max(1, Math.round(totalMb * 0.1)),
  'flatcar_production_pxe_image.cpio.gz': Math.max(1, Math.round(totalMb * 0.15)),
  'flatcar_production_image.bin.bz2': Math.max(1, Math.round(totalMb * 0.75)),
};
const work = mkdtempSync(path.join(os.tmpdir(), 'kindling-bench-import-'));
const gnupg = path.join(work, 'gnupg');
mkdirSync(gnupg, { mode: 0o700 });
const env = { ...process.env, GNUPGHOME: gnupg };
const stick = path.join(work, 'stick');
mkdirSync(stick);

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

try {
  execFileSync(
    'gpg',
    ['--batch', '--passphrase', '', '--quick-gen-key', 'bench <bench@test.invalid>', 'rsa4096', 'sign', 'never'],
    { env, stdio: 'pipe' },
  );
  const armored = execFileSync('gpg', ['--armor', '--export', 'bench@test.invalid'], { env }).toString();
  const chunk = Buffer.alloc(1 << 20);
  for (const [name, mb] of Object.entries(sizes)) {
    const fd = openSync(path.join(stick, name), 'w');
    for (let i = 0; i < mb; i++) writeSync(fd, randomFillSync(chunk));
    closeSync(fd);
    execFileSync(
      'gpg',
      [
        '--batch',
        '--yes',
        '-u',
        'bench@test.invalid',
        '--detach-sign',
        '--output',
        path.join(stick, `${name}.sig`),
        path.join(stick, name),
      ],
      { env, stdio: 'pipe' },
    );
  }
  writeFileSync(path.join(stick, 'version.txt'), 'FLATCAR_VERSION=3815.2.0\n');
  const source = {
    name: 'flatcar-stable',
    os: 'flatcar' as const,
    channel: 'stable' as const,
    arch: 'amd64' as const,
    baseUrl: 'http://127.0.0.1:9/unused',
    keys: armored,
  };

  const run = async (label: string, consume: boolean): Promise<number> => {
    const dataDir = path.join(work, `data-${label}`);
    const from = consume ? path.join(work, `upload-${label}`) : stick;
    if (consume) execFileSync('cp', ['-r', stick, from]);
    for (const name of Object.keys(sizes)) readFileSync(path.join(from, name)); // page cache warm for every contender
    const mirror = await openMirror({
      config: { schedule: null, keep: 2, sources: [source] },
      dataDir,
      logger: pino({ level: 'warn' }),
      env: {},
    });
    const start = process.hrtime.bigint();
    await mirror.importRelease({ dir: from, consume });
    const took = seconds(start);
    await mirror.close();
    rmSync(dataDir, { recursive: true, force: true });
    return took;
  };
  const consume = await run('consume', true);
  const copy = await run('copy', false);
  let sha = 0;
  let gpg = 0;
  for (const name of Object.keys(sizes)) {
    const file = path.join(stick, name);
    let start = process.hrtime.bigint();
    execFileSync('sha256sum', [file]);
    sha += seconds(start);
    start = process.hrtime.bigint();
    execFileSync('gpg', ['--batch', '--verify', `${file}.sig`, file], { env, stdio: 'pipe' });
    gpg += seconds(start);
  }
  const tools = sha + gpg;
  console.log(
    `${totalMb} MiB in 3 files, rsa4096: sha256sum ${sha.toFixed(2)} s + gpg ` +
      `--verify ${gpg.toFixed(2)} s = ${tools.toFixed(2)} s`,
  );
  console.log(
    `kindling import, upload path (rename, verify, ` +
      `publish): ${consume.toFixed(2)} s; ` +
      `ratio ${(consume / tools).toFixed(2)}`,
  );
  console.log(
    `kindling import, from a directory (copy, fsync, verify, ` +
      `publish): ${copy.toFixed(2)} s; ratio ${(copy / tools).toFixed(2)}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
