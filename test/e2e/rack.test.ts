import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rackUnavailable } from './support/rack.js';
import { lifecycle, openRackInBox, walk, type RackInBox, type Walk } from './support/scenario.js';
import { ovmfCode } from './support/vm.js';

// The rack in a box (docs/decisions.md, "The rack in a box"): real firmware PXE-boots from Kindling through install
// and reboot. Kindling runs as `kindling serve` in a network namespace; QEMU machines
// sit on a bridge in another; the OS is the stand-in built from Debian packages
// (test/fixtures/standin-os), reaching the nodes through Kindling's real mirror.
// Each VM's path through the states is logged with timestamps; a failure prints the
// VM's serial console and Kindling's log for its MAC.

const tools = [
  'qemu-system-x86_64',
  'curl',
  'dnsmasq',
  'jq',
  'mkfs.vfat',
  'mcopy',
  'syslinux',
  'sfdisk',
  'cpio',
  'depmod',
  'apt-cache',
  'dpkg-deb',
];
const unavailable =
  rackUnavailable(tools) ??
  (existsSync(ovmfCode) ? null : `${ovmfCode} is missing (Debian package ovmf)`) ??
  (existsSync('/bin/busybox') &&
  existsSync('/usr/lib/ipxe/undionly.kpxe') &&
  existsSync('/usr/lib/systemd/boot/efi/systemd-bootx64.efi')
    ? null
    : 'busybox-static, ipxe or systemd-boot-efi is missing (bash .ci/run installs them)');
if (unavailable) process.stdout.write(`test/e2e/rack.test.ts skipped: ${unavailable}\n`);

/** Per machine, from power-on to `running`, under TCG on two shared cores. */
const machineTimeoutMs = 8 * 60_000;

function expectWalkedThrough(w: Walk): void {
  const order = w.events.filter((e) => e.to).map((e) => e.to as string);
  // Each lifecycle state was entered, in order (a repeated state in between is harmless).
  let at = -1;
  for (const state of lifecycle) {
    const next = order.indexOf(state, at + 1);
    expect(
      next,
      `${w.name}: ${state} after ${lifecycle[lifecycle.indexOf(state) - 1] ?? 'power-on'} in ${order.join(' -> ')}`,
    ).toBeGreaterThan(at);
    at = next;
  }
}

/** What the serial console shows once the machine booted from its own disk with its own config. */
async function expectBootedFromDisk(box: RackInBox, w: Walk): Promise<void> {
  // Kindling can record the callback before the console prints that the unit finished.
  for (let i = 0; i < 60 && !w.vm.serial().includes('finished kindling-running.service'); i++)
    await new Promise((r) => setTimeout(r, 500));
  const askedAfterInstall = w.vm.bootOrder === 'network-first';
  const serial = w.vm.serial();
  const diskBoot = serial.indexOf('role: installed system, booted from its own disk');
  expect(diskBoot, `${w.name} never booted from its disk; serial:\n${serial.slice(-4000)}`).toBeGreaterThan(-1);
  expect(serial.slice(diskBoot)).toContain(`hostname ${w.name}.rack.local`);
  expect(serial.slice(diskBoot)).toContain('finished kindling-running.service');
  // Network first: after `installed`, the network boot answer sent it to its disk (sanboot on BIOS, `exit 1` on UEFI).
  if (askedAfterInstall) expect(box.kindling.logFor(w.vm.mac)).toContain('"boot":"local-disk"');
}

/** The whole path of one machine: its states logged with times, each state in order, then its own disk. */
async function expectInstalledAndBootedFromDisk(box: RackInBox, w: Walk): Promise<void> {
  box.log(`${w.name}: ${[...w.seen].map(([s, t]) => `${s} +${t.toFixed(0)}s`).join(', ')}`);
  expectWalkedThrough(w);
  await expectBootedFromDisk(box, w);
}

describe.skipIf(unavailable)('a rack in a box: full DHCP', () => {
  let box: RackInBox | null = null;

  beforeAll(async () => {
    box = await openRackInBox({ dhcp: 'full' });
  }, 10 * 60_000);

  afterAll(async () => {
    await box?.close();
  }, 60_000);

  it(
    'a SeaBIOS machine (iPXE ROM) and an OVMF machine (EDK2 PXE, ' +
      'snponly.efi by TFTP) install and boot from their disks',
    async ({ skip }) => {
      const b = box as RackInBox;
      if (b.mirrorMissing) skip(b.mirrorMissing);
      const bios = b.startVm('a-coreos', '52:54:00:55:1c:ee', 'bios');
      // Network first on both, as many racks leave it: after the install, Kindling's
      // local-disk answer (sanboot on BIOS, `exit 1` on UEFI) must send each to its disk.
      const uefi = b.startVm('b-coreos', '52:54:00:47:51:e4', 'uefi', 'network-first');
      const walks = await Promise.all([
        walk(b, bios, 'a-coreos', { timeoutMs: machineTimeoutMs }),
        walk(b, uefi, 'b-coreos', { timeoutMs: machineTimeoutMs }),
      ]);
      for (const w of walks) {
        await expectInstalledAndBootedFromDisk(b, w);
      }
      const machines = (
        await b.kindling.api<{
          machines: Array<{ mac: string; name: string; state: string; facts: { platform: string } }>;
        }>('GET', '/api/machines')
      ).body.machines;
      expect(machines.find((m) => m.mac === bios.mac)).toMatchObject({
        name: 'a-coreos',
        state: 'running',
        facts: { platform: 'pcbios' },
      });
      expect(machines.find((m) => m.mac === uefi.mac)).toMatchObject({
        name: 'b-coreos',
        state: 'running',
        facts: { platform: 'efi' },
      });
    },
    2 * machineTimeoutMs,
  );
});

describe.skipIf(unavailable)('a rack in a box: proxy DHCP beside dnsmasq', () => {
  let box: RackInBox | null = null;

  beforeAll(async () => {
    box = await openRackInBox({ dhcp: 'proxy' });
  }, 10 * 60_000);

  afterAll(async () => {
    await box?.close();
  }, 60_000);

  it(
    'a SeaBIOS machine gets its address from dnsmasq and its boot from Kindling, installs and boots from its disk',
    async ({ skip }) => {
      const b = box as RackInBox;
      if (b.mirrorMissing) skip(b.mirrorMissing);
      const vm = b.startVm('c-coreos', '52:54:00:c3:2f:0a', 'bios');
      const w = await walk(b, vm, 'c-coreos', { timeoutMs: machineTimeoutMs });
      await expectInstalledAndBootedFromDisk(b, w);
      const machine = (
        await b.kindling.api<{ machine: { facts: { lastIp: string } } }>('GET', `/api/machines/${vm.mac}`)
      ).body.machine;
      // dnsmasq's pool, not Kindling's.
      expect(machine.facts.lastIp).toMatch(/\.(1[6-9]\d|200)$/);
    },
    2 * machineTimeoutMs,
  );
});
