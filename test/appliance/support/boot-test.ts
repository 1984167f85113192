import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// Runs image-build/test-rootfs.sh for one architecture and returns its lines; the script
// prints "ok - ..." and "not ok - ..." per check, like TAP.

export const repo = path.resolve(import.meta.dirname, '../../..');
const script = path.join(repo, 'image-build/test-rootfs.sh');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const tools: Record<'amd64' | 'arm64', string[]> = {
  amd64: ['debootstrap', 'qemu-system-x86_64', 'mkfs.ext4', 'ip', 'curl', 'zstd'],
  arm64: [
    'debootstrap',
    'qemu-system-aarch64',
    'mkfs.ext4',
    'mkfs.vfat',
    'mcopy',
    'sfdisk',
    'aarch64-linux-gnu-g++',
    'ip',
    'curl',
    'zstd',
  ],
};

/** Why the lane cannot run here, or null. */
export function bootTestSkipReason(arch: 'amd64' | 'arm64'): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const missing = tools[arch].filter((cmd) => !has(cmd));
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (arch === 'arm64' && !existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64')) return 'no qemu-aarch64 binfmt handler';
  return null;
}

export async function runBootTest(
  arch: 'amd64' | 'arm64',
  budgetMs: number,
): Promise<{ code: number | null; lines: string[] }> {
  const lines: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('bash', [script, '--arch', arch], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), budgetMs - 30_000);
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve(status);
    });
  });
  return { code, lines };
}
