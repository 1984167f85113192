import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The appliance boot test (issue 7): image-build/test-rootfs.sh installs Kindling into a
// debootstrapped Debian root with the image's own install script, boots it under QEMU
// and checks READY=1, /healthz, the watchdog, a reboot and a broken config from a
// network namespace. Run here so its result counts with the others.

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'image-build/test-rootfs.sh');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = ['debootstrap', 'qemu-system-x86_64', 'mkfs.ext4', 'ip', 'curl', 'zstd'].filter((cmd) => !has(cmd));
const isRoot = process.getuid?.() === 0;
const reason = !isRoot ? 'needs root' : missing.length > 0 ? `missing ${missing.join(', ')}` : !existsSync('/dev/net/tun') ? 'no /dev/net/tun' : null;
// The whole test takes a few minutes with KVM and up to ~15 with TCG on two cores.
const budgetMs = 25 * 60_000;

describe('appliance root filesystem', () => {
  if (reason) console.warn(`skipping the appliance boot test: ${reason}`);

  it.skipIf(reason !== null)('boots, reaches READY=1, answers /healthz, survives the watchdog and a reboot', { timeout: budgetMs }, async () => {
    const lines: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('bash', [script], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      const timer = setTimeout(() => child.kill('SIGTERM'), budgetMs - 30_000);
      for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
    const output = lines.join('\n');
    console.log(output);
    expect(lines.filter((line) => line.includes('not ok -')), output).toEqual([]);
    expect(code, output).toBe(0);
  });
});
