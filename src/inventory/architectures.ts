// The one table of machine architectures: what a firmware says it is in DHCP (the
// IANA "Processor Architecture Types" of RFC 4578 §2.1, option 93), what iPXE later
// reports for it (${platform} and ${buildarch}, https://ipxe.org/cfg), and which of
// dhcp.bootFiles it is given. DHCP's boot-file choice (src/dhcp/pxe-policy.ts) and the
// inventory's facts from a DHCP offer (inventory.ts) both read it. Pure data.

import type { Firmware } from '../render/ipxe.js';
import type { Profile } from './profile.js';

export type { Firmware };
export type BootFileKey = 'bios' | 'uefi' | 'arm64';

export interface ClientArch {
  code: number;
  /** iPXE ${platform}. */
  platform: Firmware;
  /** iPXE ${buildarch}; null where one code covers builds for more than one (BIOS iPXE may be i386 or x86_64). */
  ipxeArch: string | null;
  bootFile: BootFileKey;
  /** UEFI HTTP boot (RFC 4578 types 16 and 19): the boot file is a URL, not a TFTP name. */
  http: boolean;
}

/** Codes by name, for the places that test for one. */
export const Arch = {
  BiosX86: 0,
  EfiIa32: 6,
  EfiBc: 7, // x86-64 (the RFC 4578 name "EFI BC" is how EDK2 reports x64)
  EfiX64: 9,
  EfiArm64: 11,
  EfiX64Http: 16,
  EfiArm64Http: 19,
} as const;

const table: readonly ClientArch[] = [
  { code: Arch.BiosX86, platform: 'pcbios', ipxeArch: null, bootFile: 'bios', http: false },
  { code: Arch.EfiIa32, platform: 'efi', ipxeArch: 'i386', bootFile: 'uefi', http: false },
  { code: Arch.EfiBc, platform: 'efi', ipxeArch: 'x86_64', bootFile: 'uefi', http: false },
  { code: Arch.EfiX64, platform: 'efi', ipxeArch: 'x86_64', bootFile: 'uefi', http: false },
  { code: Arch.EfiArm64, platform: 'efi', ipxeArch: 'arm64', bootFile: 'arm64', http: false },
  { code: Arch.EfiX64Http, platform: 'efi', ipxeArch: 'x86_64', bootFile: 'uefi', http: true },
  { code: Arch.EfiArm64Http, platform: 'efi', ipxeArch: 'arm64', bootFile: 'arm64', http: true },
];

const byCode = new Map(table.map((a) => [a.code, a]));

/** The table's row for an RFC 4578 code, or null for a code Kindling has no boot file for. */
export function clientArch(code: number): ClientArch | null {
  return byCode.get(code) ?? null;
}

/** In iPXE's terms: an unknown code is some UEFI firmware (every BIOS PXE ROM sends 0 or nothing). */
export function firmwareOfClientArch(code: number): { platform: Firmware; arch: string | null } {
  const row = clientArch(code);
  return row ? { platform: row.platform, arch: row.ipxeArch } : { platform: 'efi', arch: null };
}

/** The iPXE build arches that can run a profile's OS arch. BIOS iPXE is an i386 build on x86-64 hardware. */
export const ipxeArchesFor: Record<Profile['arch'], readonly string[]> = {
  amd64: ['x86_64', 'i386'],
  x86_64: ['x86_64', 'i386'],
  arm64: ['arm64'],
  aarch64: ['arm64'],
};
