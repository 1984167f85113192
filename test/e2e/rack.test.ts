import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rackUnavailable } from './support/rack.js';
import { lifecycle, openRackInBox, syncMirror, walk, type RackInBox, type Walk } from './support/scenario.js';
import { standinVersion } from './support/standin.js';
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

/** The release the fake upstream publishes after the installs, for the installed nodes' update checks. */
const updateVersion = '9999.1.0';

interface UpdateMachine {
  mac: string | null;
  machineId: string;
  version: string;
  state: string;
  reason: string | null;
}

/**
 * The installed node's Omaha client (test/fixtures/standin-os/rootfs/usr/lib/standin/omaha-client) asks
 * Kindling's POST /v1/update/ as update.conf says; after a sync of a newer signed release it is told of
 * it, downloads it from the mirror, checks its size and sha256, and reports back until the machines API
 * shows it updated.
 */
async function expectUpdatedFromMirror(box: RackInBox, w: Walk): Promise<void> {
  const t0 = Date.now();
  const at = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const report = (why: string): Error => {
    const log = readFileSync(box.kindling.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('/v1/update') || l.includes('mirror') || l.includes(w.vm.mac))
      .join('\n');
    return new Error(
      `${w.name}: ${why} at ${at()}\n--- serial console of ${w.name} (last 6000 characters) ---\n` +
        `${w.vm.serial().slice(-6000)}\n--- Kindling's log: updates, mirror, ${w.vm.mac} (last 6000 characters) ---\n` +
        `${log.slice(-6000)}\n`,
    );
  };
  const record = async () =>
    (await box.kindling.api<{ machines: UpdateMachine[] }>('GET', '/api/updates')).body.machines.find(
      (m) => m.mac === w.vm.mac,
    );
  // Its first check, before the new release exists: the version it was installed as, nothing to do.
  let seen = await record();
  for (let i = 0; i < 60 && !seen; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    seen = await record();
  }
  if (!seen) throw report('no Omaha update check from the installed node within 120 s');
  box.log(`${w.name}: Omaha check at ${at()}: ${seen.version} ${seen.state} (machine id ${seen.machineId})`);
  expect(seen).toMatchObject({ version: standinVersion, state: 'up-to-date' });

  await box.upstream.publish(updateVersion);
  const missing = await syncMirror(box.kindling, box.log, updateVersion);
  if (missing) throw report(missing);
  box.log(`${w.name}: ${updateVersion} published on the mirror at ${at()}`);
  let state = seen.state;
  for (let i = 0; i < 120; i++) {
    const now = await record();
    if (now && now.state !== state) {
      state = now.state;
      box.log(`${w.name}: update ${now.state.padEnd(11)} at ${at()} (version ${now.version})`);
    }
    if (now?.state === 'error') throw report(`the node reported an update error: ${now.reason ?? '?'}`);
    if (now?.state === 'updated' && now.version === updateVersion) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const last = await record();
  if (last?.state !== 'updated' || last.version !== updateVersion)
    throw report(`not updated to ${updateVersion} within 240 s: ${JSON.stringify(last)}`);
  const payload = statSync(
    path.join(box.upstream.root, 'stable', 'amd64-usr', updateVersion, 'flatcar_production_update.gz'),
  ).size;
  const serial = w.vm.serial();
  // The client's own account of the exchange, for the timeline (the API polls can miss a short `offered`).
  for (const line of serial.split('\n').filter((l) => l.startsWith('omaha: ')))
    box.log(`${w.name} serial: ${line.trim()}`);
  expect(serial).toContain(`omaha: offered ${updateVersion}: ${box.kindling.url}/mirror/flatcar/stable/amd64-usr/`);
  expect(serial).toContain(`omaha: downloaded ${payload} bytes`);
  expect(serial).toContain('omaha: size and sha256 match the answer');
  expect(serial).toContain(`running ${updateVersion}, previous version ${standinVersion} (event 3/2)`);
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
      'snponly.efi by TFTP) install and boot from their disks; the SeaBIOS one then updates from the mirror',
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
      // Then the lifecycle after the install: an update for the installed SeaBIOS node from the mirror.
      await expectUpdatedFromMirror(b, walks[0] as Walk);
    },
    2 * machineTimeoutMs + 8 * 60_000,
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
