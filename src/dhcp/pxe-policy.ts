// Which boot file a network-boot client gets (docs/how-a-node-boots.md, the DHCP
// offer; docs/dhcp.md, "What a client gets"). Pure: facts from the request and the configured file names in, a decision
// out. Architecture numbers are the IANA "Processor Architecture Types" of RFC 4578 §2.1.

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

export const Arch = {
  BiosX86: 0,
  EfiIa32: 6,
  EfiBc: 7, // x86-64 (the RFC 4578 name "EFI BC" is how EDK2 reports x64)
  EfiX64: 9,
  EfiArm64: 11,
  EfiX64Http: 16,
  EfiArm64Http: 19,
} as const;

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
  return (
    (f.vendorClass?.startsWith('HTTPClient') ?? false) || f.arch === Arch.EfiX64Http || f.arch === Arch.EfiArm64Http
  );
}

export function choosePxeBoot(f: PxeFacts, config: PxePolicyConfig): PxeDecision {
  const base = config.httpBaseUrl.replace(/\/+$/, '');
  const echo = isHttpClient(f) ? 'HTTPClient' : isPxeClient(f) ? 'PXEClient' : null;
  // An iPXE client must get the script, never the iPXE binary again: that is the
  // chainload loop every hand-written dhcpd.conf guards against with `if exists user-class`.
  if (isIpxe(f)) return { kind: 'ipxe-script', bootFile: `${base}/boot.ipxe`, vendorClass: echo };
  if (isHttpClient(f)) {
    if (f.arch === Arch.EfiArm64Http) {
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
  switch (arch) {
    case Arch.BiosX86:
      return { kind: 'tftp', bootFile: config.bootFiles.bios, vendorClass: 'PXEClient' };
    case Arch.EfiIa32:
    case Arch.EfiBc:
    case Arch.EfiX64:
      return { kind: 'tftp', bootFile: config.bootFiles.uefi, vendorClass: 'PXEClient' };
    case Arch.EfiArm64:
      if (!config.bootFiles.arm64)
        return { kind: 'none', reason: 'arm64 UEFI client but dhcp.bootFiles.arm64 is not set' };
      return { kind: 'tftp', bootFile: config.bootFiles.arm64, vendorClass: 'PXEClient' };
    default:
      return { kind: 'none', reason: `client architecture ${arch} has no boot file (RFC 4578 §2.1 type)` };
  }
}
