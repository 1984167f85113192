import {
  ipxeQuery,
  kernelBootScript,
  localDiskScript,
  sanitizeBanner,
  waitScript,
  type Firmware,
} from '../render/ipxe.js';
import { osArtifacts } from '../render/os-artifacts.js';
import type { MachineState } from './lifecycle.js';
import type { Profile } from './profile.js';

// What a machine boots, decided in one place (docs/how-a-node-boots.md, the answers
// to /ipxe). A pure function of the machine, its profile and what iPXE told us; every
// service asks it and none re-decides.

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

export interface BootDecision {
  kind: BootKind;
  script: string;
  /** The state the machine enters when this script is served, if it changes. */
  nextState: MachineState | null;
  /** One line for the log and the machine's event history. */
  reason: string;
}

export function firmwareOf(request: BootRequest): Firmware {
  return request.platform === 'efi' ? 'efi' : 'pcbios';
}

/** The iPXE build arches that can run a profile's OS arch. BIOS iPXE is an i386 build on x86-64 hardware. */
const compatibleArches: Record<Profile['arch'], readonly string[]> = {
  amd64: ['x86_64', 'i386'],
  x86_64: ['x86_64', 'i386'],
  arm64: ['arm64'],
  aarch64: ['arm64'],
};

export function bootDecision(input: BootInput): BootDecision {
  const { machine, profile, request, serverUrl } = input;
  const who = machine.name ? `${machine.name} (${machine.mac})` : machine.mac;
  const wait = (reason: string): BootDecision => ({
    kind: 'wait',
    script: waitScript(
      `${serverUrl}/ipxe?${ipxeQuery}`,
      input.retrySeconds,
      sanitizeBanner(`Kindling: ${who}: ${reason}`),
    ),
    nextState: null,
    reason,
  });

  if (input.profileProblem) return wait(input.profileProblem);
  if (!profile || machine.state === 'discovered') return wait('no profile assigned yet; waiting for one');
  if (machine.state === 'failed') return wait('the last install failed; request a reinstall to try again');
  if (request.arch && !compatibleArches[profile.arch].includes(request.arch)) {
    return wait(`profile ${profile.name} is for ${profile.arch}, but this machine's iPXE is ${request.arch}`);
  }

  const firmware = firmwareOf(request);
  if (profile.mode === 'live') {
    return {
      kind: 'live',
      script: kernelBootScript(liveBoot(input, profile, who)),
      nextState: null,
      reason: `live boot of profile ${profile.name}`,
    };
  }
  switch (machine.state) {
    case 'installed':
    case 'running':
      return {
        kind: 'local-disk',
        script: localDiskScript(firmware, sanitizeBanner(`Kindling: ${who} is installed; booting from its disk`)),
        nextState: null,
        reason: `installed; local disk (${firmware})`,
      };
    case 'assigned':
    case 'reinstall-requested':
    case 'installing':
      return {
        kind: 'install',
        script: kernelBootScript(installBoot(input, profile, who)),
        nextState: 'installing',
        reason:
          machine.state === 'installing'
            ? `install boot again (profile ${profile.name}): the last one did not call back`
            : `install boot (profile ${profile.name})`,
      };
  }
}

function configArgs(profile: Profile, serverUrl: string, mac: string, phase: 'install' | 'target' | null): string[] {
  const q = `mac=${mac}${phase ? `&phase=${phase}` : ''}`;
  if (profile.config === 'cloud-config') return [`cloud-config-url=${serverUrl}/cloud-config?${q}`];
  return [`ignition.config.url=${serverUrl}/ignition?${q}`];
}

// Serial and screen both: racks are often watched through IPMI serial-over-LAN.
const consoleArgs = ['console=tty0', 'console=ttyS0,115200n8'];

function liveBoot(input: BootInput, profile: Profile, who: string) {
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
    banner: sanitizeBanner(`Kindling: ${who}: live ${profile.os} ${profile.version} (profile ${profile.name})`),
  };
}

function installBoot(input: BootInput, profile: Profile, who: string) {
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
    banner: sanitizeBanner(
      `Kindling: ${who}: installing ${profile.os} ${profile.version} ` +
        `to ${profile.installDisk} (profile ${profile.name})`,
    ),
  };
}
