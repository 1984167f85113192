import { osArtifacts } from '../render/os-artifacts.js';
import { ipxeArchesFor, type Firmware } from './architectures.js';
import type { ConfigPhase } from './callback-tokens.js';
import type { MachineState } from './lifecycle.js';
import type { Profile } from './profile.js';

// What a machine boots, decided in one place (docs/architecture.md, "The path of one
// boot request"). A pure function of the machine, its profile and what iPXE told us,
// returning data: the boot route applies and renders it (boot-service.ts,
// render/ipxe.ts), the config route reads its config phase, the previews show it.
// Nothing else decides. The shape follows pixiecore's Booter.BootSpec -> Spec.

export interface BootRequest {
  /** iPXE ${buildarch}: i386, x86_64, arm64, ... */
  arch: string | null;
  /** iPXE ${platform}: pcbios or efi. */
  platform: string | null;
}

export interface BootInput {
  machine: { mac: string; name: string | null; state: MachineState };
  /** The machine's profile, or null when none is assigned. */
  profile: Profile | null;
  /** Why the assigned profile cannot be used (missing or broken file), if so. */
  profileProblem: string | null;
  request: BootRequest;
  serverUrl: string;
  retrySeconds: number;
}

export type BootKind = 'wait' | 'install' | 'live' | 'local-disk';

interface PlanCommon {
  /** One line for the log and the machine's event history. */
  reason: string;
  /** Shown on the console; raw text, made safe for iPXE by the renderer. */
  banner: string;
  /** The state the machine enters when this plan is served, if it changes. */
  nextState: MachineState | null;
  /** The phase a config fetched now without ?phase= is rendered for; null without a usable profile. */
  configPhase: ConfigPhase | null;
}

export interface WaitPlan extends PlanCommon {
  kind: 'wait';
  /** Asked again (with iPXE's own facts in the query) after `seconds`. */
  retry: { url: string; seconds: number };
}

export interface KernelPlan extends PlanCommon {
  kind: 'install' | 'live';
  kernel: string;
  initrds: string[];
  args: string[];
}

export interface LocalDiskPlan extends PlanCommon {
  kind: 'local-disk';
  firmware: Firmware;
}

export type BootPlan = WaitPlan | KernelPlan | LocalDiskPlan;

/** States in which an install profile's machine is served the install-phase config. */
const installPhaseStates: ReadonlySet<MachineState> = new Set(['assigned', 'installing', 'reinstall-requested']);

export function firmwareOf(request: BootRequest): Firmware {
  return request.platform === 'efi' ? 'efi' : 'pcbios';
}

/**
 * The config phase for a machine in a state: install while an install profile's machine
 * has not yet installed, target otherwise. It does not depend on what iPXE said, so a
 * config fetch (which says nothing of firmware) gets the same answer as the boot.
 */
export function configPhaseFor(state: MachineState, profile: Profile | null): ConfigPhase | null {
  if (!profile) return null;
  return profile.mode === 'install' && installPhaseStates.has(state) ? 'install' : 'target';
}

export function bootPlan(input: BootInput): BootPlan {
  const { machine, profile, request, serverUrl } = input;
  const who = machine.name ? `${machine.name} (${machine.mac})` : machine.mac;
  const configPhase = input.profileProblem ? null : configPhaseFor(machine.state, profile);
  const wait = (reason: string): WaitPlan => ({
    kind: 'wait',
    reason,
    banner: `Kindling: ${who}: ${reason}`,
    nextState: null,
    configPhase,
    retry: { url: `${serverUrl}/ipxe`, seconds: input.retrySeconds },
  });

  if (input.profileProblem) return wait(input.profileProblem);
  if (!profile || machine.state === 'discovered') return wait('no profile assigned yet; waiting for one');
  if (machine.state === 'failed') return wait('the last install failed; request a reinstall to try again');
  if (request.arch && !ipxeArchesFor[profile.arch].includes(request.arch)) {
    return wait(`profile ${profile.name} is for ${profile.arch}, but this machine's iPXE is ${request.arch}`);
  }

  if (profile.mode === 'live') {
    return {
      kind: 'live',
      ...liveBoot(input, profile, who),
      nextState: null,
      configPhase,
      reason: `live boot of profile ${profile.name}`,
    };
  }
  const firmware = firmwareOf(request);
  switch (machine.state) {
    case 'installed':
    case 'running':
      return {
        kind: 'local-disk',
        firmware,
        banner: `Kindling: ${who} is installed; booting from its disk`,
        nextState: null,
        configPhase,
        reason: `installed; local disk (${firmware})`,
      };
    case 'assigned':
    case 'reinstall-requested':
    case 'installing':
      return {
        kind: 'install',
        ...installBoot(input, profile, who),
        nextState: 'installing',
        configPhase,
        reason:
          machine.state === 'installing'
            ? `install boot again (profile ${profile.name}): the last one did not call back`
            : `install boot (profile ${profile.name})`,
      };
  }
}

function configArgs(profile: Profile, serverUrl: string, mac: string, phase: ConfigPhase | null): string[] {
  const q = `mac=${mac}${phase ? `&phase=${phase}` : ''}`;
  if (profile.config === 'cloud-config') return [`cloud-config-url=${serverUrl}/cloud-config?${q}`];
  return [`ignition.config.url=${serverUrl}/ignition?${q}`];
}

// Serial and screen both: racks are often watched through IPMI serial-over-LAN.
const consoleArgs = ['console=tty0', 'console=ttyS0,115200n8'];

type KernelFields = Pick<KernelPlan, 'kernel' | 'initrds' | 'args' | 'banner'>;

function liveBoot(input: BootInput, profile: Profile, who: string): KernelFields {
  const { serverUrl, machine } = input;
  const files = osArtifacts(profile, serverUrl);
  const osArgs =
    profile.os === 'flatcar'
      ? [
          'flatcar.first_boot=1',
          ...configArgs(profile, serverUrl, machine.mac, null),
          ...(profile.autologin ? ['flatcar.autologin'] : []),
        ]
      : [
          `coreos.live.rootfs_url=${files.rootfs}`,
          'ignition.firstboot',
          'ignition.platform.id=metal',
          ...configArgs(profile, serverUrl, machine.mac, null),
        ];
  return {
    kernel: files.kernel,
    initrds: files.initrds,
    args: [...osArgs, ...consoleArgs, ...profile.kernelArgs],
    banner: `Kindling: ${who}: live ${profile.os} ${profile.version} (profile ${profile.name})`,
  };
}

function installBoot(input: BootInput, profile: Profile, who: string): KernelFields {
  const { serverUrl, machine } = input;
  const files = osArtifacts(profile, serverUrl);
  const osArgs =
    profile.os === 'flatcar'
      ? // The PXE-booted Flatcar runs the install-phase config, which runs flatcar-install.
        [
          'flatcar.first_boot=1',
          ...configArgs(profile, serverUrl, machine.mac, 'install'),
          ...(profile.autologin ? ['flatcar.autologin'] : []),
        ]
      : // Fedora CoreOS installs through coreos-installer, driven by coreos.inst.* arguments.
        [
          `coreos.live.rootfs_url=${files.rootfs}`,
          'ignition.firstboot',
          'ignition.platform.id=metal',
          ...configArgs(profile, serverUrl, machine.mac, 'install'),
          `coreos.inst.install_dev=${profile.installDisk}`,
          `coreos.inst.image_url=${files.image}`,
          `coreos.inst.ignition_url=${serverUrl}/ignition?mac=${machine.mac}&phase=target`,
        ];
  return {
    kernel: files.kernel,
    initrds: files.initrds,
    args: [...osArgs, ...consoleArgs, ...profile.kernelArgs],
    banner:
      `Kindling: ${who}: installing ${profile.os} ${profile.version} to ${profile.installDisk} ` +
      `(profile ${profile.name})`,
  };
}
