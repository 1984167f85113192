// Which boot file a network-boot client gets (docs/how-a-node-boots.md; docs/dhcp.md).
// Pure: facts from the request and the configured file names in, a decision
// out. Architecture numbers are the IANA "Processor Architecture Types" of RFC 4578 §2.1,
// looked up in the one architecture table (src/inventory/architectures.ts).

import { Arch, clientArch } from '../inventory/architectures.js';

export interface PxeFacts {
  /** Option 93 (or the Arch field of the vendor class); null when the client sent neither. */
  arch: number | null;
  vendorClass: string | null;
  userClasses: readonly string[];
  /** Option 175 present: only iPXE sends it. */
  hasIpxeOptions: boolean;
}

export interface PxePolicyConfig {
  bootFiles: { bios: string; uefi: string; arm64: string | null };
  /** `http://SERVER[:PORT]` with no trailing slash. */
  httpBaseUrl: string;
}

export type PxeDecision =
  | {
      kind: 'ipxe-script' | 'tftp' | 'http';
      bootFile: string;
      /** Option 60 in the reply: PXE clients want `PXEClient`, UEFI HTTP boot requires `HTTPClient`. */
      vendorClass: 'PXEClient' | 'HTTPClient' | null;
    }
  | { kind: 'none'; reason: string };

export { Arch };

/** True when the client asked for a boot file at all: a PXE ROM, UEFI HTTP boot or iPXE. */
export function isBootClient(f: PxeFacts): boolean {
  return isIpxe(f) || isPxeClient(f) || isHttpClient(f);
}

export function isIpxe(f: PxeFacts): boolean {
  return f.hasIpxeOptions || f.userClasses.includes('iPXE');
}

function isPxeClient(f: PxeFacts): boolean {
  return f.vendorClass?.startsWith('PXEClient') ?? false;
}

function isHttpClient(f: PxeFacts): boolean {
  return (f.vendorClass?.startsWith('HTTPClient') ?? false) || (f.arch !== null && clientArch(f.arch)?.http === true);
}

export function choosePxeBoot(f: PxeFacts, config: PxePolicyConfig): PxeDecision {
  const base = config.httpBaseUrl.replace(/\/+$/, '');
  const echo = isHttpClient(f) ? 'HTTPClient' : isPxeClient(f) ? 'PXEClient' : null;
  // An iPXE client must get the script, never the iPXE binary again: that is the
  // chainload loop every hand-written dhcpd.conf guards against with `if exists user-class`.
  if (isIpxe(f)) return { kind: 'ipxe-script', bootFile: `${base}/boot.ipxe`, vendorClass: echo };
  if (isHttpClient(f)) {
    const row = f.arch === null ? null : clientArch(f.arch);
    // Only an HTTP arm64 code gets the arm64 file; any other HTTP client is taken for x64.
    if (row?.http && row.bootFile === 'arm64') {
      if (!config.bootFiles.arm64)
        return { kind: 'none', reason: 'arm64 UEFI HTTP client but dhcp.bootFiles.arm64 is not set' };
      return { kind: 'http', bootFile: `${base}/${config.bootFiles.arm64}`, vendorClass: 'HTTPClient' };
    }
    return { kind: 'http', bootFile: `${base}/${config.bootFiles.uefi}`, vendorClass: 'HTTPClient' };
  }
  if (!isPxeClient(f))
    return { kind: 'none', reason: 'not a network-boot client (no PXEClient or HTTPClient vendor class, not iPXE)' };
  // PXE 2.1 ROMs from before RFC 4578 send no option 93; they are all x86 BIOS.
  const arch = f.arch ?? Arch.BiosX86;
  const row = clientArch(arch);
  // HTTP codes (16, 19) were answered above as HTTP clients; none reaches this line.
  if (!row || row.http)
    return { kind: 'none', reason: `client architecture ${arch} has no boot file (RFC 4578 §2.1 type)` };
  if (row.bootFile === 'arm64') {
    if (!config.bootFiles.arm64)
      return { kind: 'none', reason: 'arm64 UEFI client but dhcp.bootFiles.arm64 is not set' };
    return { kind: 'tftp', bootFile: config.bootFiles.arm64, vendorClass: 'PXEClient' };
  }
  return { kind: 'tftp', bootFile: config.bootFiles[row.bootFile], vendorClass: 'PXEClient' };
}
