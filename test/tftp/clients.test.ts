// Real clients (tftp-hpa, atftp, curl) against an in-process server on loopback: every
// fetch must be byte-identical, with and without blksize, tsize and windowsize.
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TftpServer } from '../../src/tftp/index.js';
import { clients, makeTempDir, run, startLoopbackServer, writeFile, writeRandomFile } from './support/harness.js';

const IPXE_ROOT = '/usr/lib/ipxe';
/** Over 65535 x 512 bytes, so a 512-byte transfer passes block 65535 and rolls over. */
const ROLLOVER_BYTES = 65_535 * 512 + 70_000;

let dir: { path: string; remove: () => Promise<void> };
let root: string;
let extra: string;
let out: string;
let server: TftpServer;
let port: number;
let logs: string[];

const sizes = {
  'empty.bin': 0,
  'one.bin': 1,
  '511.bin': 511,
  '512.bin': 512,
  '1468x3.bin': 1468 * 3,
  'mid.bin': 300_001,
  'big.bin': 3_000_017,
};

beforeAll(async () => {
  dir = await makeTempDir('kindling-tftp-');
  root = join(dir.path, 'root');
  extra = join(dir.path, 'extra');
  out = join(dir.path, 'out');
  await Promise.all([mkdir(root), mkdir(out), mkdir(join(extra, 'pxelinux.cfg'), { recursive: true })]);
  for (const [name, size] of Object.entries(sizes)) await writeRandomFile(join(root, name), size);
  await writeRandomFile(join(root, 'rollover.bin'), ROLLOVER_BYTES);
  await writeFile(join(root, 'text.cfg'), 'DEFAULT flatcar\r\nLABEL flatcar\n  KERNEL vmlinuz\rend\n');
  await writeFile(join(extra, 'pxelinux.cfg', '01-52-54-00-55-1c-ee'), 'DEFAULT a-coreos\n');
  await writeFile(join(extra, 'big.bin'), 'shadowed by the first root');
  await symlink(join(root, 'mid.bin'), join(root, 'link-inside.bin'));
  // Users' files live in the extra root, where a link must stay inside (roots.ts).
  await symlink('/etc/passwd', join(extra, 'escape'));
  await symlink('/etc', join(extra, 'etc-dir'));
  await symlink('../../../../../../../../../../etc/passwd', join(extra, 'pxelinux.cfg', 'default'));
  ({ server, port, logs } = await startLoopbackServer([root, join(dir.path, 'missing-root'), IPXE_ROOT], {
    config: { extraRoot: extra },
  }));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

let seq = 0;
async function fetchWith([cmd, args]: [string, string[]], local: string): Promise<Buffer> {
  const result = await run(cmd, args, { cwd: out });
  expect(result.code, `${cmd} ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return readFile(local);
}
const target = (): string => join(out, `f${seq++}`);
const original = (name: string, base = root): Promise<Buffer> => readFile(join(base, name));

describe('tftp-hpa (RFC 1350, no options)', () => {
  it.each(Object.keys(sizes))('fetches %s byte-identical', async (name) => {
    const local = target();
    expect((await fetchWith(clients.tftpHpa(port, name, local), local)).equals(await original(name))).toBe(true);
  });

  it('fetches a netascii file and gets the text back', async () => {
    const local = target();
    expect(
      (await fetchWith(clients.tftpHpa(port, 'text.cfg', local, 'ascii'), local)).equals(await original('text.cfg')),
    ).toBe(true);
  });
});

describe('atftp (blksize, tsize, windowsize)', () => {
  const variants: Array<[string, Record<string, string>]> = [
    ['no options', {}],
    ['blksize 1468', { blksize: '1468' }],
    ['tsize', { tsize: '0' }],
    ['blksize 1432 + tsize (what iPXE asks)', { blksize: '1432', tsize: '0' }],
    ['blksize 1468 + tsize + windowsize 4 (what EDK2 asks)', { blksize: '1468', tsize: '0', windowsize: '4' }],
    ['windowsize 16', { windowsize: '16' }],
    ['blksize 8', { blksize: '8' }],
  ];
  for (const [label, options] of variants) {
    it.each(['empty.bin', '512.bin', '1468x3.bin', 'big.bin'])(`${label}: %s`, async (name) => {
      if (name === 'big.bin' && options.blksize === '8') return;
      const local = target();
      expect((await fetchWith(clients.atftp(port, name, local, options), local)).equals(await original(name))).toBe(
        true,
      );
    });
  }
});

describe('curl tftp://', () => {
  const variants: Array<[string, string[]]> = [
    ['defaults (tsize)', []],
    ['--tftp-blksize 1468', ['--tftp-blksize', '1468']],
    ['--tftp-blksize 65464 (capped to 1468)', ['--tftp-blksize', '65464']],
    ['--tftp-no-options', ['--tftp-no-options']],
  ];
  for (const [label, extraArgs] of variants) {
    it.each(['one.bin', '512.bin', 'big.bin'])(`${label}: %s`, async (name) => {
      const local = target();
      expect((await fetchWith(clients.curl(port, name, local, extraArgs), local)).equals(await original(name))).toBe(
        true,
      );
    });
  }
});

describe('roots', () => {
  it.skipIf(!existsSync(join(IPXE_ROOT, 'ipxe.efi')))('serves ipxe.efi from the Debian ipxe package', async () => {
    const local = target();
    expect(
      (
        await fetchWith(clients.atftp(port, 'ipxe.efi', local, { blksize: '1468', tsize: '0', windowsize: '4' }), local)
      ).equals(await original('ipxe.efi', IPXE_ROOT)),
    ).toBe(true);
  });

  it('serves per-MAC pxelinux files from the extra root', async () => {
    const local = target();
    const bytes = await fetchWith(clients.tftpHpa(port, 'pxelinux.cfg/01-52-54-00-55-1c-ee', local), local);
    expect(bytes.toString()).toBe('DEFAULT a-coreos\n');
  });

  it('searches roots in order: the first root wins', async () => {
    const local = target();
    expect((await fetchWith(clients.curl(port, 'big.bin', local), local)).equals(await original('big.bin'))).toBe(true);
  });

  it('follows a symlink that stays inside its root', async () => {
    const local = target();
    expect(
      (await fetchWith(clients.curl(port, 'link-inside.bin', local), local)).equals(await original('mid.bin')),
    ).toBe(true);
  });

  it('logs a missing root and carries on', () => {
    expect(logs.some((l) => l.includes('missing-root') && l.includes('tftp root unavailable'))).toBe(true);
  });

  it('answers a missing file with error 1', async () => {
    const result = await run(...clients.curl(port, 'nope.bin', target()));
    // curl's exit code 68 is CURLE_TFTP_NOTFOUND, its mapping of TFTP error 1.
    expect(result.code).toBe(68);
  });
});

describe('path escapes are refused', () => {
  const attempts = [
    '../etc/passwd',
    '../../../../etc/passwd',
    '/etc/passwd',
    'pxelinux.cfg/../../etc/passwd',
    '..\\..\\etc\\passwd',
    'escape',
    'etc-dir/passwd',
    'pxelinux.cfg/default',
  ];
  it.each(attempts)('tftp-hpa %s', async (name) => {
    const local = target();
    const result = await run(...clients.tftpHpa(port, name, local));
    // tftp-hpa exits 0 even on a server error; what matters is that no file content came back.
    const got = existsSync(local) ? await readFile(local) : Buffer.alloc(0);
    expect(got.length, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/Error code 2|Access violation|path refused|access violation/i);
  });
  it.each(attempts)('atftp %s', async (name) => {
    const local = target();
    const result = await run(...clients.atftp(port, name, local));
    expect(result.code).not.toBe(0);
    expect(existsSync(local) ? (await readFile(local)).length : 0).toBe(0);
  });
  it('curl ../etc/passwd with --path-as-is', async () => {
    const result = await run(...clients.curl(port, '../etc/passwd', target()));
    // 69 is CURLE_TFTP_PERM, curl's mapping of TFTP error 2 (access violation).
    expect(result.code).toBe(69);
  });
  it('logs every refusal', () => {
    expect(logs.filter((l) => l.includes('tftp path refused')).length).toBeGreaterThanOrEqual(attempts.length);
  });
});

describe('rollover past block 65535', () => {
  it('tftp-hpa at 512 bytes (RFC 1350) fetches a 33.6 MB file byte-identical', async () => {
    const local = target();
    const result = await run(...clients.tftpHpa(port, 'rollover.bin', local), { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect((await readFile(local)).equals(await original('rollover.bin'))).toBe(true);
  }, 130_000);

  it('curl --tftp-blksize 512 fetches it byte-identical', async () => {
    const local = target();
    const result = await run(...clients.curl(port, 'rollover.bin', local, ['--tftp-blksize', '512']), {
      timeoutMs: 120_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect((await readFile(local)).equals(await original('rollover.bin'))).toBe(true);
  }, 130_000);

  it('atftp blksize 512 windowsize 8 fetches it byte-identical', async () => {
    const local = target();
    const result = await run(...clients.atftp(port, 'rollover.bin', local, { blksize: '512', windowsize: '8' }), {
      timeoutMs: 120_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect((await readFile(local)).equals(await original('rollover.bin'))).toBe(true);
  }, 130_000);
});
