import { describe, expect, it } from 'vitest';
import { choosePxeBoot, type PxeFacts } from '../../src/dhcp/pxe-policy.js';

const config = { bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi', arm64: null }, httpBaseUrl: 'http://10.77.0.2' };
const withArm = { ...config, bootFiles: { ...config.bootFiles, arm64: 'arm64/ipxe.efi' } };
const pxe = (arch: number | null, extra: Partial<PxeFacts> = {}): PxeFacts => ({
  arch,
  vendorClass: `PXEClient:Arch:${String(arch ?? 0).padStart(5, '0')}:UNDI:003016`,
  userClasses: [],
  hasIpxeOptions: false,
  ...extra,
});

describe('PXE policy (the DHCP offer)', () => {
  it.each([
    ['BIOS', pxe(0), config, { kind: 'tftp', bootFile: 'undionly.kpxe', vendorClass: 'PXEClient' }],
    [
      'old PXE ROM without option 93',
      pxe(null),
      config,
      { kind: 'tftp', bootFile: 'undionly.kpxe', vendorClass: 'PXEClient' },
    ],
    ['UEFI IA32', pxe(6), config, { kind: 'tftp', bootFile: 'ipxe.efi', vendorClass: 'PXEClient' }],
    ['UEFI x64 (EFI BC)', pxe(7), config, { kind: 'tftp', bootFile: 'ipxe.efi', vendorClass: 'PXEClient' }],
    ['UEFI x64', pxe(9), config, { kind: 'tftp', bootFile: 'ipxe.efi', vendorClass: 'PXEClient' }],
    [
      'snponly configured',
      pxe(7),
      { ...config, bootFiles: { ...config.bootFiles, uefi: 'snponly.efi' } },
      { kind: 'tftp', bootFile: 'snponly.efi', vendorClass: 'PXEClient' },
    ],
    ['arm64 configured', pxe(11), withArm, { kind: 'tftp', bootFile: 'arm64/ipxe.efi', vendorClass: 'PXEClient' }],
    [
      'arm64 not configured',
      pxe(11),
      config,
      { kind: 'none', reason: 'arm64 UEFI client but dhcp.bootFiles.arm64 is not set' },
    ],
    [
      'UEFI HTTP boot',
      { arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', userClasses: [], hasIpxeOptions: false },
      config,
      { kind: 'http', bootFile: 'http://10.77.0.2/ipxe.efi', vendorClass: 'HTTPClient' },
    ],
    [
      'iPXE by user class',
      pxe(7, { userClasses: ['iPXE'] }),
      config,
      { kind: 'ipxe-script', bootFile: 'http://10.77.0.2/boot.ipxe', vendorClass: 'PXEClient' },
    ],
    [
      'iPXE by option 175',
      pxe(0, { hasIpxeOptions: true }),
      config,
      { kind: 'ipxe-script', bootFile: 'http://10.77.0.2/boot.ipxe', vendorClass: 'PXEClient' },
    ],
    [
      'iPXE on a trailing-slash base',
      pxe(0, { userClasses: ['iPXE'] }),
      { ...config, httpBaseUrl: 'http://10.77.0.2:8080/' },
      { kind: 'ipxe-script', bootFile: 'http://10.77.0.2:8080/boot.ipxe', vendorClass: 'PXEClient' },
    ],
    [
      'an ordinary client',
      { arch: null, vendorClass: 'dhcpcd-9.4.1:Linux', userClasses: [], hasIpxeOptions: false },
      config,
      { kind: 'none', reason: expect.stringMatching(/not a network-boot client/) },
    ],
    ['an unknown architecture', pxe(2), config, { kind: 'none', reason: expect.stringMatching(/architecture 2/) }],
  ])('%s', (_name, facts, cfg, expected) => {
    expect(choosePxeBoot(facts as PxeFacts, cfg)).toEqual(expected);
  });
});
