import { describe, expect, it } from 'vitest';
import { renderBootPlan } from '../render/ipxe.js';
import { bootPlan, type BootInput, type BootKind, type KernelPlan } from './boot-plan.js';
import type { ConfigPhase } from './callback-tokens.js';
import { machineStates, type MachineState } from './lifecycle.js';
import { parseProfile, type Profile } from './profile.js';

const server = 'http://10.77.0.1';
const mac = '52:54:00:55:1c:ee';
const flatcarInstall = parseProfile(
  'flatcar-install',
  { os: 'flatcar', channel: 'stable', mode: 'install', installDisk: '/dev/sda' },
  'flatcar-install.yaml',
);
const flatcarLive = parseProfile(
  'flatcar-live',
  { os: 'flatcar', channel: 'beta', mode: 'live', config: 'cloud-config' },
  'flatcar-live.yaml',
);
const fcosInstall = parseProfile(
  'fcos',
  { os: 'fcos', stream: 'stable', arch: 'x86_64', installDisk: '/dev/vda' },
  'fcos.yaml',
);
const fcosLive = parseProfile(
  'fcos-live',
  { os: 'fcos', stream: 'stable', arch: 'x86_64', mode: 'live' },
  'fcos-live.yaml',
);
const firmwares = [
  { platform: 'pcbios', arch: 'i386' },
  { platform: 'efi', arch: 'x86_64' },
] as const;

function input(
  state: MachineState,
  profile: Profile | null,
  firmware: { platform: string | null; arch: string | null },
): BootInput {
  return {
    machine: { mac, name: 'a-coreos', state },
    profile,
    profileProblem: null,
    request: firmware,
    serverUrl: server,
    retrySeconds: 30,
  };
}

/** What the machine has to boot with: a profile of each OS and mode, none, a broken one, or one for another arch. */
type Availability =
  'flatcar-install' | 'fcos-install' | 'flatcar-live' | 'fcos-live' | 'none' | 'broken' | 'other-arch';
const availability: Record<Availability, (state: MachineState, firmware: (typeof firmwares)[number]) => BootInput> = {
  'flatcar-install': (s, f) => input(s, flatcarInstall, f),
  'fcos-install': (s, f) => input(s, fcosInstall, f),
  'flatcar-live': (s, f) => input(s, flatcarLive, f),
  'fcos-live': (s, f) => input(s, fcosLive, f),
  none: (s, f) => input(s, null, f),
  broken: (s, f) => ({
    ...input(s, null, f),
    profileProblem: 'profile "gone" does not exist or does not load; see /healthz',
  }),
  'other-arch': (s, f) => input(s, flatcarInstall, { ...f, arch: 'arm64' }),
};

// Every state x availability: kind, the state it moves to, and the config phase a fetch gets.
type Row = [BootKind, MachineState | null, ConfigPhase | null];
const install = (state: MachineState): Row =>
  state === 'installed' || state === 'running'
    ? ['local-disk', null, 'target']
    : state === 'failed'
      ? ['wait', null, 'target']
      : ['install', 'installing', 'install'];
const live = (state: MachineState): Row => (state === 'failed' ? ['wait', null, 'target'] : ['live', null, 'target']);
const expected: Record<Availability, (state: MachineState) => Row> = {
  'flatcar-install': install,
  'fcos-install': install,
  'flatcar-live': live,
  'fcos-live': live,
  none: () => ['wait', null, null],
  broken: () => ['wait', null, null],
  'other-arch': (state) => ['wait', null, install(state)[2]],
};

describe('bootPlan', () => {
  for (const state of machineStates) {
    for (const [name, make] of Object.entries(availability) as Array<
      [Availability, (typeof availability)[Availability]]
    >) {
      for (const firmware of firmwares) {
        // A discovered machine waits whatever its profile (the assignment has not reached it
        // yet); a config fetched meanwhile is the target one, as no install has begun.
        const want: Row =
          state === 'discovered'
            ? ['wait', null, name === 'none' || name === 'broken' ? null : 'target']
            : expected[name](state);
        it(`${state} + ${name} on ${firmware.platform} -> ${want.join(', ')}`, () => {
          const plan = bootPlan(make(state, firmware));
          expect([plan.kind, plan.nextState, plan.configPhase]).toEqual(want);
          if (plan.kind === 'local-disk') expect(plan.firmware).toBe(firmware.platform);
          if (plan.kind === 'wait') expect(plan.retry).toEqual({ url: `${server}/ipxe`, seconds: 30 });
        });
      }
    }
  }

  it('points a Flatcar install at the mirror and at the install-phase Ignition', () => {
    const plan = bootPlan(input('assigned', flatcarInstall, firmwares[0])) as KernelPlan;
    expect(plan.kernel).toBe(`${server}/mirror/flatcar/stable/amd64-usr/current/flatcar_production_pxe.vmlinuz`);
    expect(plan.initrds).toEqual([
      `${server}/mirror/flatcar/stable/amd64-usr/current/flatcar_production_pxe_image.cpio.gz`,
    ]);
    expect(plan.args.slice(0, 2)).toEqual([
      'flatcar.first_boot=1',
      `ignition.config.url=${server}/ignition?mac=${mac}&phase=install`,
    ]);
    expect(plan.args).not.toContain('flatcar.autologin');
    expect(plan.args).toContain('console=ttyS0,115200n8');
  });

  it('gives a cloud-config live profile cloud-config-url without a phase', () => {
    const plan = bootPlan(input('assigned', flatcarLive, firmwares[1])) as KernelPlan;
    expect(plan.kernel).toContain('/mirror/flatcar/beta/amd64-usr/current/flatcar_production_pxe.vmlinuz');
    expect(plan.args).toContain(`cloud-config-url=${server}/cloud-config?mac=${mac}`);
  });

  it('drives Fedora CoreOS installs with coreos.inst arguments', () => {
    const plan = bootPlan(input('reinstall-requested', fcosInstall, firmwares[1])) as KernelPlan;
    expect(plan.args).toEqual(
      expect.arrayContaining([
        `coreos.live.rootfs_url=${server}/mirror/fcos/stable/x86_64/current/fedora-coreos-live-rootfs.x86_64.img`,
        'coreos.inst.install_dev=/dev/vda',
        `coreos.inst.image_url=${server}/mirror/fcos/stable/x86_64/current/fedora-coreos-metal.x86_64.raw.xz`,
        `coreos.inst.ignition_url=${server}/ignition?mac=${mac}&phase=target`,
        'ignition.platform.id=metal',
      ]),
    );
  });

  it('waits, saying why, when the profile is missing or for another arch', () => {
    const missing = bootPlan({
      ...input('assigned', null, firmwares[0]),
      profileProblem: 'profile "gone" does not exist',
    });
    expect([missing.kind, missing.reason]).toEqual(['wait', 'profile "gone" does not exist']);
    expect(missing.banner).toBe('Kindling: a-coreos (52:54:00:55:1c:ee): profile "gone" does not exist');
    const arm = bootPlan(input('assigned', flatcarInstall, { platform: 'efi', arch: 'arm64' }));
    expect(arm.kind).toBe('wait');
    expect(arm.reason).toBe("profile flatcar-install is for amd64, but this machine's iPXE is arm64");
  });

  it('takes a machine that never said its firmware for BIOS with any arch', () => {
    const plan = bootPlan(input('installed', flatcarInstall, { platform: null, arch: null }));
    expect(plan).toMatchObject({ kind: 'local-disk', firmware: 'pcbios', reason: 'installed; local disk (pcbios)' });
  });

  it('counts a repeated install boot as such in its reason', () => {
    expect(bootPlan(input('installing', flatcarInstall, firmwares[0])).reason).toBe(
      'install boot again (profile flatcar-install): the last one did not call back',
    );
    expect(bootPlan(input('assigned', flatcarInstall, firmwares[0])).reason).toBe(
      'install boot (profile flatcar-install)',
    );
  });

  it('is what render/ipxe renders, banner made safe', () => {
    const script = renderBootPlan(
      bootPlan({ ...input('assigned', null, firmwares[0]), profileProblem: 'bad\nline ${evil}' }),
    );
    const echo = script.split('\n')[1]!;
    expect(echo).toMatch(/^echo [\x20-\x7e]+$/);
    expect(echo).not.toContain('${');
  });
});
