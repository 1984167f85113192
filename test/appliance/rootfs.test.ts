import { describe, expect, it } from 'vitest';
import { bootTestSkipReason, runBootTest } from './support/boot-test.js';

// The appliance boot test: image-build/test-rootfs.sh installs Kindling into a
// debootstrapped Debian root with the image's own install script, boots it under QEMU
// and checks READY=1, /healthz, a PXE client, the watchdog, a reboot, a broken config
// and proxy mode beside dnsmasq from a network namespace. Run here so its result counts.

const reason = bootTestSkipReason('amd64');
// A few minutes with KVM and up to ~20 with TCG on two cores.
const budgetMs = 30 * 60_000;

describe('appliance root filesystem (amd64)', () => {
  if (reason) console.warn(`skipping the amd64 appliance boot test: ${reason}`);

  it.skipIf(reason !== null)(
    'boots, reaches READY=1, serves a PXE client, survives the watchdog and a reboot, follows a moved lease',
    { timeout: budgetMs },
    async () => {
      const { code, lines } = await runBootTest('amd64', budgetMs);
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
