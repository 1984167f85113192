import { describe, expect, it } from 'vitest';
import { bootTestSkipReason, runBootTest } from './support/boot-test.js';

// The Raspberry Pi lane: an arm64 Debian trixie root with raspi-firmware and Debian's
// arm64 kernel, Kindling installed by the image's own install-kindling.sh from a bundle
// whose addon was cross-built, laid out as a two-partition SD card image, checked
// statically, and booted under qemu-system-aarch64 -M virt (TCG) with the kernel,
// initramfs and cmdline.txt from its FAT partition; then the amd64 lane's checks, an x86
// SeaBIOS machine PXE-booting from it to `installing`, and the same card booted fresh
// under -M raspi3b with the Pi 3's own DTB.

const reason = bootTestSkipReason('arm64');
// debootstrap under qemu-user the first time (~15 min, then cached) and a TCG guest.
const budgetMs = 45 * 60_000;

describe('Raspberry Pi SD image (arm64)', () => {
  if (reason) console.warn(`skipping the arm64 SD image boot test: ${reason}`);

  it.skipIf(reason !== null)(
    'is laid out as the Pi firmware expects, boots, reaches READY=1 and passes the appliance checks',
    { timeout: budgetMs },
    async () => {
      const { code, lines } = await runBootTest('arm64', budgetMs);
      const output = lines.join('\n');
      console.log(output);
      expect(
        lines.filter((line) => line.includes('not ok -')),
        output,
      ).toEqual([]);
      expect(code, output).toBe(0);
    },
  );
});
