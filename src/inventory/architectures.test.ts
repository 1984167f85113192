import { describe, expect, it } from 'vitest';
import { choosePxeBoot } from '../dhcp/pxe-policy.js';
import { Arch, firmwareOfClientArch } from './architectures.js';

// The one table read two ways: the inventory's facts from a DHCP offer and DHCP's boot
// file must describe the same machine for every RFC 4578 code Kindling knows.

const bootFiles = { bios: 'undionly.kpxe', uefi: 'snponly.efi', arm64: 'arm64.efi' };
const config = { bootFiles, httpBaseUrl: 'http://10.0.0.1' };

const rows: Array<[code: number, platform: string, ipxeArch: string | null, file: string]> = [
  [Arch.BiosX86, 'pcbios', null, 'undionly.kpxe'],
  [Arch.EfiIa32, 'efi', 'i386', 'snponly.efi'],
  [Arch.EfiBc, 'efi', 'x86_64', 'snponly.efi'],
  [Arch.EfiX64, 'efi', 'x86_64', 'snponly.efi'],
  [Arch.EfiArm64, 'efi', 'arm64', 'arm64.efi'],
  [Arch.EfiX64Http, 'efi', 'x86_64', 'http://10.0.0.1/snponly.efi'],
  [Arch.EfiArm64Http, 'efi', 'arm64', 'http://10.0.0.1/arm64.efi'],
];

describe('the architecture table', () => {
  for (const [code, platform, ipxeArch, file] of rows) {
    it(`code ${code}: ${platform}/${ipxeArch ?? 'any'} iPXE, boot file ${file}`, () => {
      expect(firmwareOfClientArch(code)).toEqual({ platform, arch: ipxeArch });
      const client = file.startsWith('http') ? 'HTTPClient' : 'PXEClient';
      const vendorClass = `${client}:Arch:${String(code).padStart(5, '0')}:UNDI:003016`;
      expect(choosePxeBoot({ arch: code, vendorClass, userClasses: [], hasIpxeOptions: false }, config)).toMatchObject({
        bootFile: file,
      });
    });
  }

  it('takes an unknown code for some UEFI firmware, and DHCP gives it no boot file', () => {
    expect(firmwareOfClientArch(2)).toEqual({ platform: 'efi', arch: null });
    expect(
      choosePxeBoot(
        { arch: 2, vendorClass: 'PXEClient:Arch:00002:UNDI:003016', userClasses: [], hasIpxeOptions: false },
        config,
      ),
    ).toMatchObject({ kind: 'none' });
  });
});
