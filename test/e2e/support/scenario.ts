import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startKindling, type E2eKindling } from './kindling.js';
import { createRack, type Rack } from './rack.js';
import { buildStandin, standinVersion, writeUpstream, type Upstream } from './standin.js';
import { startVm, type Accel, type Firmware, type Vm } from './vm.js';

// One rack in a box, shared by the e2e suite and `npm run lab`: the network, Kindling
// (full DHCP, or proxy beside dnsmasq), the mirror synced from the fake upstream, and
// machines walked through discovered -> assigned -> installing -> installed -> running.

export const lifecycle = ['discovered', 'assigned', 'installing', 'installed', 'running'] as const;

/** The profile every test machine gets: the seed guides' shape, installing to the VM's virtio disk. */
export const e2eProfile = `# test/e2e: Flatcar (the stand-in OS) installed to the VM's virtio disk
os: flatcar
channel: stable
version: current
arch: amd64
mode: install
installDisk: /dev/vda
hostname: "{{name}}.rack.local"
kernelArgs: [loglevel=4]
files:
  - { path: /etc/motd, mode: "0644", contents: "{{name}} installed by Kindling\\n" }
`;

export interface RackInBox {
  rack: Rack;
  kindling: E2eKindling;
  /** The fake upstream Kindling's mirror syncs from. */
  upstream: Upstream;
  workDir: string;
  accel: Accel;
  /** Why installs cannot run here (no mirror in this Kindling), or null. */
  mirrorMissing: string | null;
  log(line: string): void;
  vms: Vm[];
  startVm(name: string, mac: string, firmware: Firmware, bootOrder?: 'network-first' | 'disk-first'): Vm;
  close(): Promise<void>;
}

const upstreamPort = 8081;

export async function openRackInBox(options: {
  dhcp: 'full' | 'proxy';
  log?: (line: string) => void;
  keepWorkDir?: boolean;
}): Promise<RackInBox> {
  const t0 = Date.now();
  const log =
    options.log ??
    ((line: string) => process.stdout.write(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`));
  mkdirSync('/tmp', { recursive: true });
  const workDir = mkdtempSync('/tmp/kindling-e2e-');
  const rack = createRack();
  const vms: Vm[] = [];
  let kindling: E2eKindling | null = null;
  const close = async () => {
    for (const vm of vms) vm.stop();
    await kindling?.stop();
    rack.destroy();
    if (!options.keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const standin = buildStandin();
    log(`stand-in OS: ${standin}`);
    const upstream = await writeUpstream({
      standinDir: standin,
      root: path.join(workDir, 'upstream'),
      host: '127.0.0.1',
      port: upstreamPort,
    });
    if (options.dhcp === 'proxy') {
      rack.addSiteDhcp();
      const net = rack.siteIp.split('.').slice(0, 3).join('.');
      // The site's DHCP server: addresses only, no PXE, no DNS (--port=0).
      rack.spawn(
        rack.siteNs as string,
        'dnsmasq',
        [
          '--keep-in-foreground',
          '--port=0',
          '--no-resolv',
          '--no-hosts',
          '--interface=eth0',
          '--bind-interfaces',
          `--dhcp-range=${net}.160,${net}.200,255.255.255.0,1h`,
          `--dhcp-leasefile=${path.join(workDir, 'dnsmasq.leases')}`,
          '--log-dhcp',
          `--log-facility=${path.join(workDir, 'dnsmasq.log')}`,
        ],
        { stdio: 'ignore' },
      );
      log(`site DHCP: dnsmasq on ${rack.siteIp}, addresses ${net}.160-200`);
    }
    kindling = await startKindling({
      rack,
      workDir,
      upstream,
      upstreamPort,
      dhcp: options.dhcp,
      profiles: { e2e: e2eProfile },
    });
    log(`Kindling on ${kindling.url} (DHCP ${options.dhcp}), log ${kindling.logFile}`);
    const mirrorMissing = await syncMirror(kindling, log);
    const accel = await chooseAccel(rack, kindling, workDir, log);
    return {
      rack,
      kindling,
      upstream,
      workDir,
      accel,
      mirrorMissing,
      log,
      vms,
      startVm(name, mac, firmware, bootOrder = 'network-first') {
        const vm = startVm({ rack, name, mac, firmware, accel, workDir, bootOrder });
        vms.push(vm);
        log(
          `${name}: powered on ` +
            `(${firmware === 'bios' ? 'SeaBIOS + iPXE ROM' : 'OVMF, EDK2 PXE'}, ${mac}, ${accel}, ${bootOrder})`,
        );
        return vm;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Starts a sync and waits until flatcar-stable publishes `version`; null when this Kindling has no mirror. */
export async function syncMirror(
  kindling: E2eKindling,
  log: (l: string) => void,
  version = standinVersion,
): Promise<string | null> {
  const first = await kindling.api('GET', '/api/mirror');
  if (first.status === 404)
    return (
      'this Kindling does not serve /api/mirror yet (the mirror is not wired ' +
      'into main.ts), so nodes have nothing to install'
    );
  const startedAt = Date.now();
  const started = await kindling.api('POST', '/api/mirror/sync', {});
  if (started.status >= 300)
    throw new Error(`POST /api/mirror/sync answered ${started.status}: ${JSON.stringify(started.body)}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const state = (
      await kindling.api<{
        running: boolean;
        sources: Array<{
          name: string;
          current: string | null;
          lastSync: { ok: boolean; finishedAt: string } | null;
        }>;
      }>('GET', '/api/mirror')
    ).body;
    const source = state.sources.find((s) => s.name === 'flatcar-stable');
    if (source?.current === version) {
      log(`mirror: flatcar-stable ${version} verified and published`);
      return null;
    }
    const last = source?.lastSync;
    if (!state.running && last && last.ok === false && Date.parse(last.finishedAt) >= startedAt - 1000)
      throw new Error(`the mirror sync failed: ${JSON.stringify(last)}`);
    if (Date.now() > deadline)
      throw new Error(`the mirror did not publish ${version} within 120 s: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * KVM only when it really passes network traffic: a KVM guest on a tap was seen to send
 * no DHCP at all (docs/decisions.md, "The rack in a box"). A throwaway VM must get a DHCP offer within 25 s.
 */
let chosenAccel: Accel | null = null;

async function chooseAccel(
  rack: Rack,
  kindling: E2eKindling,
  workDir: string,
  log: (l: string) => void,
): Promise<Accel> {
  const forced = process.env['KINDLING_E2E_ACCEL'];
  if (forced === 'kvm' || forced === 'tcg') return forced;
  chosenAccel ??= await probeAccel(rack, kindling, workDir, log);
  return chosenAccel;
}

async function probeAccel(
  rack: Rack,
  kindling: E2eKindling,
  workDir: string,
  log: (l: string) => void,
): Promise<Accel> {
  try {
    execFileSync('sh', ['-c', 'test -r /dev/kvm && test -w /dev/kvm']);
  } catch {
    log('accelerator: TCG (no usable /dev/kvm)');
    return 'tcg';
  }
  const mac = '52:54:00:e2:ff:01';
  const probe = startVm({ rack, name: 'kvmprobe', mac, firmware: 'bios', accel: 'kvm', workDir });
  try {
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && probe.running()) {
      if (kindling.logFor(mac).includes('boot offer')) {
        log('accelerator: KVM (a KVM guest got its DHCP offer)');
        return 'kvm';
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    log('accelerator: TCG (a KVM guest on the bridge sent no DHCP within 25 s; docs/decisions.md)');
    return 'tcg';
  } finally {
    probe.stop();
    await kindling.api('DELETE', `/api/machines/${mac}`);
  }
}

export interface Walk {
  vm: Vm;
  name: string;
  /** State -> seconds since power-on, as first seen through the API. */
  seen: Map<string, number>;
  events: Array<{ at: string; type: string; to?: string; message: string }>;
}

interface ApiMachine {
  mac: string;
  state: string;
  facts: { arch: string | null; platform: string | null; lastIp: string | null };
}

/**
 * Follows one machine through Kindling's API: assigns it once it is discovered and has
 * reached /ipxe, then waits for every state up to `running`. Throws with the VM's serial
 * console and Kindling's log for its MAC when it fails or runs out of time.
 */
export async function walk(
  box: RackInBox,
  vm: Vm,
  name: string,
  options: { timeoutMs: number; profile?: string },
): Promise<Walk> {
  const t0 = Date.now();
  const seen = new Map<string, number>();
  const at = () => (Date.now() - t0) / 1000;
  let assigned = false;
  const fail = (why: string): never => {
    throw new Error(
      `${name} (${vm.mac}, ${vm.firmware}): ${why} after ${at().toFixed(0)} s; states ` +
        `seen: ${[...seen].map(([s, t]) => `${s}@${t.toFixed(0)}s`).join(' ')}\n` +
        `--- serial console of ${name} (last 6000 characters) ---\n${vm.serial().slice(-6000)}\n` +
        `--- Kindling's log for ${vm.mac} (last 6000 characters) ---\n${box.kindling.logFor(vm.mac).slice(-6000)}\n`,
    );
  };
  for (;;) {
    if (Date.now() - t0 > options.timeoutMs) fail(`not running within ${options.timeoutMs / 1000} s`);
    if (!vm.running()) fail('QEMU exited');
    const res = await box.kindling.api<{ machine: ApiMachine; events: Walk['events'] }>(
      'GET',
      `/api/machines/${vm.mac}`,
    );
    if (res.status === 200) {
      const { machine, events } = res.body;
      for (const e of events) {
        if (e.to && !seen.has(e.to)) {
          seen.set(e.to, at());
          box.log(`${name}: ${e.to.padEnd(11)} at +${at().toFixed(1)}s (${e.message})`);
        }
      }
      if (!seen.has(machine.state)) {
        seen.set(machine.state, at());
        box.log(`${name}: ${machine.state.padEnd(11)} at +${at().toFixed(1)}s`);
      }
      if (machine.state === 'failed') fail('Kindling recorded the install as failed');
      // Kindling logs each wait-loop answer of /ipxe: the machine got DHCP, its iPXE and /boot.ipxe.
      if (!assigned && machine.state === 'discovered' && box.kindling.logFor(vm.mac).includes('"boot":"wait"')) {
        box.log(
          `${name}: reached /ipxe at +${at().toFixed(1)}s (arch ${machine.facts.arch}, ` +
            `platform ${machine.facts.platform}, address ${machine.facts.lastIp}); in the wait loop`,
        );
        const r = await box.kindling.api('POST', `/api/machines/${vm.mac}/assign`, {
          profile: options.profile ?? 'e2e',
          name,
        });
        if (r.status !== 200) fail(`assign answered ${r.status} ${JSON.stringify(r.body)}`);
        assigned = true;
      }
      if (machine.state === 'running') return { vm, name, seen, events };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function failureReport(box: RackInBox | null, vm: Vm): string {
  return (
    `--- serial console of ${vm.name} ---\n${vm.serial().slice(-6000)}\n--- Kindling's log ` +
    `for ${vm.mac} ---\n${box?.kindling.logFor(vm.mac).slice(-6000) ?? ''}`
  );
}
