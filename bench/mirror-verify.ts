// Bench: verifying a 400 MB image (sha256 and detached OpenPGP signature, one read)
// with Kindling's verifyFile, against `sha256sum` plus `gpg --verify` on the same file.
// Run: node --import tsx bench/mirror-verify.ts [SIZE_MB]
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { readKeys, verifyFile } from '../src/mirror/verify.js';

const sizeMb = Number(process.argv[2] ?? 400);
const work = mkdtempSync(path.join(os.tmpdir(), 'kindling-bench-verify-'));
const gnupg = path.join(work, 'gnupg');
mkdirSync(gnupg, { mode: 0o700 });
const env = { ...process.env, GNUPGHOME: gnupg };
const file = path.join(work, 'flatcar_production_image.bin.bz2');

function time<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

try {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < sizeMb; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  for (const algo of ['rsa4096', 'ed25519']) {
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        `bench-${algo} <bench-${algo}@test.invalid>`,
        algo,
        'sign',
        'never',
      ],
      { env, stdio: 'pipe' },
    );
    const sig = `${file}.${algo}.sig`;
    execFileSync(
      'gpg',
      ['--batch', '--yes', '-u', `bench-${algo}@test.invalid`, '--detach-sign', '--output', sig, file],
      { env, stdio: 'pipe' },
    );
    const armored = execFileSync('gpg', ['--armor', '--export', `bench-${algo}@test.invalid`], { env }).toString();
    const keys = await readKeys('bench', armored, () => Promise.reject(new Error()));
    const signature = readFileSync(sig);
    readFileSync(file); // page cache warm for every contender
    const [, kindling] = await timeAsync(() =>
      verifyFile({ source: 'bench', name: 'image', file, sha256: null, signature, keys }),
    );
    const [, sha] = time(() => execFileSync('sha256sum', [file]));
    const [, gpg] = time(() => execFileSync('gpg', ['--batch', '--verify', sig, file], { env, stdio: 'pipe' }));
    console.log(
      `${sizeMb} MiB, ${algo} key (gpg default digest): kindling verifyFile (sha256 + signature, one ` +
        `read) ${kindling.toFixed(2)} s; sha256sum ${sha.toFixed(2)} s + gpg --verify ${gpg.toFixed(2)} s ` +
        `= ${(sha + gpg).toFixed(2)} s; ratio ${(kindling / (sha + gpg)).toFixed(2)}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
