// Option codes and typed views over the raw option bytes of a DhcpPacket. Readers
// return null for absent or malformed values instead of throwing: a client's odd
// option must never take the server down.
import { ipFromBytes, ipToBytes, type DhcpPacket } from './packet.js';

export const Opt = {
  SubnetMask: 1, // RFC 2132 §3.3
  Router: 3, // RFC 2132 §3.5
  Dns: 6, // RFC 2132 §3.8
  HostName: 12, // RFC 2132 §3.14
  DomainName: 15, // RFC 2132 §3.17
  Broadcast: 28, // RFC 2132 §5.3
  VendorSpecific: 43, // RFC 2132 §8.4; PXE 2.1 §2.4 sub-options
  RequestedIp: 50, // RFC 2132 §9.1
  LeaseTime: 51, // RFC 2132 §9.2
  Overload: 52, // RFC 2132 §9.3
  MessageType: 53, // RFC 2132 §9.6
  ServerId: 54, // RFC 2132 §9.7
  ParamRequest: 55, // RFC 2132 §9.8
  Message: 56, // RFC 2132 §9.9
  MaxSize: 57, // RFC 2132 §9.10
  Renewal: 58, // RFC 2132 §9.11
  Rebinding: 59, // RFC 2132 §9.12
  VendorClass: 60, // RFC 2132 §9.13
  ClientId: 61, // RFC 2132 §9.14
  TftpServer: 66, // RFC 2132 §9.4
  BootFile: 67, // RFC 2132 §9.5
  UserClass: 77, // RFC 3004
  RelayAgent: 82, // RFC 3046
  ClientArch: 93, // RFC 4578 §2.1
  ClientNdi: 94, // RFC 4578 §2.2
  MachineUuid: 97, // RFC 4578 §2.3
  Ipxe: 175, // iPXE's encapsulated options (ipxe.org/howto/dhcpd)
} as const;

export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

export function messageType(p: DhcpPacket): number | null {
  const v = p.options.get(Opt.MessageType);
  return v && v.length === 1 ? v[0]! : null;
}

export function optionIp(p: DhcpPacket, code: number): string | null {
  const v = p.options.get(code);
  return v && v.length === 4 ? ipFromBytes(v, 0) : null;
}

export function optionString(p: DhcpPacket, code: number): string | null {
  const v = p.options.get(code);
  if (!v || v.length === 0) return null;
  // Trailing NULs are common (some firmware counts the terminator in the length).
  let end = v.length;
  while (end > 0 && v[end - 1] === 0) end--;
  return Buffer.from(v.buffer, v.byteOffset, end).toString('latin1');
}

export function optionU16(p: DhcpPacket, code: number): number | null {
  const v = p.options.get(code);
  return v && v.length === 2 ? (v[0]! << 8) | v[1]! : null;
}

/** RFC 2132 §9.10: a client may not ask for less than 576. */
export function maxMessageSize(p: DhcpPacket): number {
  const v = optionU16(p, Opt.MaxSize);
  return v !== null && v >= 576 ? v : 576;
}

export function parameterRequestList(p: DhcpPacket): number[] {
  const v = p.options.get(Opt.ParamRequest);
  return v ? Array.from(v) : [];
}

/** Zero-length client ids are treated as absent (RFC 2132 §9.14 requires at least 2 octets). */
export function clientId(p: DhcpPacket): Uint8Array | null {
  const v = p.options.get(Opt.ClientId);
  return v && v.length >= 2 ? v : null;
}

/**
 * RFC 4578 §2.1: a list of 16-bit architecture types; the first is the one in use.
 * PXE 2.1 ROMs from before RFC 4578 send none but put the type in the vendor class.
 */
export function clientArch(p: DhcpPacket): number | null {
  const v = p.options.get(Opt.ClientArch);
  if (v && v.length >= 2) return (v[0]! << 8) | v[1]!;
  const vc = optionString(p, Opt.VendorClass);
  const m = vc ? /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vc) : null;
  return m ? Number(m[1]) : null;
}

/** RFC 4578 §2.2: type 1 (UNDI), major, minor. */
export function clientNdi(p: DhcpPacket): { type: number; major: number; minor: number } | null {
  const v = p.options.get(Opt.ClientNdi);
  return v && v.length === 3 ? { type: v[0]!, major: v[1]!, minor: v[2]! } : null;
}

/** RFC 4578 §2.3: type 0 followed by a 16-octet GUID, returned in the usual 8-4-4-4-12 form. */
export function machineUuid(p: DhcpPacket): string | null {
  const v = p.options.get(Opt.MachineUuid);
  if (!v || v.length !== 17 || v[0] !== 0) return null;
  const h = Buffer.from(v.subarray(1)).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Option 77. RFC 3004 frames each class with a length octet, but iPXE and dhclient's
 * `send user-class "iPXE"` send the bare string: accept both readings.
 */
export function userClasses(p: DhcpPacket): string[] {
  const v = p.options.get(Opt.UserClass);
  if (!v || v.length === 0) return [];
  const out = [Buffer.from(v).toString('latin1').replace(/\0+$/, '')];
  const framed: string[] = [];
  let i = 0;
  while (i < v.length) {
    const len = v[i]!;
    if (len === 0 || i + 1 + len > v.length) return out;
    framed.push(Buffer.from(v.subarray(i + 1, i + 1 + len)).toString('latin1'));
    i += 1 + len;
  }
  return [...out, ...framed];
}

/** RFC 3046 §2.0: sub-options of the relay agent information, raw. */
export function relayAgentInfo(p: DhcpPacket): Uint8Array | null {
  return p.options.get(Opt.RelayAgent) ?? null;
}

export const encode = {
  u8: (n: number): Uint8Array => Uint8Array.of(n & 255),
  u16: (n: number): Uint8Array => Uint8Array.of((n >>> 8) & 255, n & 255),
  u32: (n: number): Uint8Array => Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255),
  ip: (ip: string): Uint8Array => ipToBytes(ip),
  ips: (ips: readonly string[]): Uint8Array => {
    const out = new Uint8Array(ips.length * 4);
    ips.forEach((ip, i) => out.set(ipToBytes(ip), i * 4));
    return out;
  },
  str: (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1')),
};

/**
 * PXE 2.1 §2.4, option 43 sub-option 6 (PXE_DISCOVERY_CONTROL) = 8: "if a boot file
 * name is present in the initial DHCP or ProxyDHCP offer, download it; do not prompt
 * or discover boot servers". Then END (255). What dnsmasq and pixiecore send too.
 */
export const PXE_VENDOR_OPTIONS = Uint8Array.of(6, 1, 8, 255);
