import { defineConfig } from 'vitest/config';

// Tests that boot virtual machines under QEMU (often TCG: software emulation) need
// both cores to themselves: they run after everything else, one file at a time.
const vmTests = [
  'test/e2e/**/*.test.ts',
  'test/appliance/rootfs.test.ts',
  'test/appliance/sd-image-arm64.test.ts',
  'test/dhcp/firmware.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real daemons and network namespaces; two cores do not like 8 at once.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: vmTests,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'vm',
          include: vmTests,
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
