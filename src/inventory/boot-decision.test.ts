import { describe, expect, it } from 'vitest';
import { bootDecision, type BootInput } from './boot-decision.js';
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
const firmwares = [
  { platform: 'pcbios', arch: 'i386' },
  { platform: 'efi', arch: 'x86_64' },
] as const;

function input(state: MachineState, profile: Profile | null, firmware: { platform: string; arch: string }): BootInput {
  return {
    machine: { mac, name: 'a-coreos', state },
    profile,
    profileProblem: null,
    request: firmware,
    serverUrl: server,
    retrySeconds: 30,
  };
}

// Every state x firmware x profile kind: what a person watching the console would see.
const expected: Record<MachineState, { install: string; live: string; none: string }> = {
  discovered: { install: 'wait', live: 'wait', none: 'wait' },
  assigned: { install: 'install', live: 'live', none: 'wait' },
  installing: { install: 'install', live: 'live', none: 'wait' },
  installed: { install: 'local-disk', live: 'live', none: 'wait' },
  running: { install: 'local-disk', live: 'live', none: 'wait' },
  failed: { install: 'wait', live: 'wait', none: 'wait' },
  'reinstall-requested': { install: 'install', live: 'live', none: 'wait' },
};

describe('bootDecision', () => {
  for (const state of machineStates) {
    for (const firmware of firmwares) {
      for (const [kind, profile] of [
        ['install', flatcarInstall],
        ['live', flatcarLive],
        ['none', null],
      ] as const) {
        it(`${state} + ${kind} profile on ${firmware.platform} -> ${expected[state][kind]}`, () => {
          const decision = bootDecision(input(state, profile, firmware));
          expect(decision.kind).toBe(expected[state][kind]);
          expect(decision.script.startsWith('#!ipxe\n')).toBe(true);
          if (decision.kind === 'local-disk') {
            expect(decision.script).toContain(
              firmware.platform === 'efi' ? '\nexit 1\n' : 'sanboot --no-describe --drive 0x80',
            );
            expect(decision.nextState).toBeNull();
          }
          if (decision.kind === 'wait') {
            expect(decision.script).toMatch(
              /sleep 30\nchain --autofree --replace http:\/\/10\.77\.0\.1\/ipxe\?mac=\$\{net0\/mac:hexhyp\}/,
            );
            expect(decision.nextState).toBeNull();
          }
          if (decision.kind === 'install') expect(decision.nextState).toBe('installing');
        });
      }
    }
  }

  it('points a Flatcar install at the mirror and at the install-phase Ignition', () => {
    const { script } = bootDecision(input('assigned', flatcarInstall, firmwares[0]));
    expect(script).toContain(
      'initrd --name initrd0 ' +
        'http://10.77.0.1/mirror/flatcar/stable/amd64-usr/current/flatcar_production_pxe_image.cpio.gz',
    );
    expect(script).toMatch(
      new RegExp(
        /kernel http:\/\/10\.77\.0\.1\/mirror\/flatcar\/stable\/amd64-usr\/current\//.source +
          /flatcar_production_pxe\.vmlinuz initrd=initrd0 flatcar\.first_boot=1 /.source +
          /ignition\.config\.url=http:\/\/10\.77\.0\.1\/ignition\?mac=52:54:00:55:1c:ee&phase=install/.source,
      ),
    );
    expect(script).toMatch(/\nboot\n$/);
    expect(script).not.toContain('flatcar.autologin');
  });

  it('gives a cloud-config live profile cloud-config-url', () => {
    const { script } = bootDecision(input('assigned', flatcarLive, firmwares[1]));
    expect(script).toContain('/mirror/flatcar/beta/amd64-usr/current/flatcar_production_pxe.vmlinuz');
    expect(script).toContain(`cloud-config-url=${server}/cloud-config?mac=${mac}`);
  });

  it('drives Fedora CoreOS installs with coreos.inst arguments', () => {
    const { script } = bootDecision(input('reinstall-requested', fcosInstall, firmwares[1]));
    expect(script).toContain(
      `coreos.live.rootfs_url=${server}/mirror/fcos/stable/x86_64/current/fedora-coreos-live-rootfs.x86_64.img`,
    );
    expect(script).toContain('coreos.inst.install_dev=/dev/vda');
    expect(script).toContain(
      `coreos.inst.image_url=${server}/mirror/fcos/stable/x86_64/current/fedora-coreos-metal.x86_64.raw.xz`,
    );
    expect(script).toContain(`coreos.inst.ignition_url=${server}/ignition?mac=${mac}&phase=target`);
    expect(script).toContain('ignition.platform.id=metal');
  });

  it('waits, saying why, when the profile is missing or for another arch', () => {
    const missing = bootDecision({
      ...input('assigned', null, firmwares[0]),
      profileProblem: 'profile "gone" does not exist',
    });
    expect(missing.kind).toBe('wait');
    expect(missing.script).toContain('profile "gone" does not exist');
    const arm = bootDecision({ ...input('assigned', flatcarInstall, { platform: 'efi', arch: 'arm64' }) });
    expect(arm.kind).toBe('wait');
    expect(arm.reason).toBe("profile flatcar-install is for amd64, but this machine's iPXE is arm64");
  });

  it('keeps console banners to one printable line without iPXE expansions', () => {
    const { script } = bootDecision({ ...input('assigned', null, firmwares[0]), profileProblem: 'bad\nline ${evil}' });
    const echo = script.split('\n')[1]!;
    expect(echo).toMatch(/^echo [\x20-\x7e]+$/);
    expect(echo).not.toContain('${');
  });
});
