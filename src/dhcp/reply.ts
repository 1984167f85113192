// Building replies and choosing where they go (RFC 2131 §4.1 and table 3). Shared by
// the full and proxy handlers.
import type pino from 'pino';
import {
  clientArch,
  machineUuid,
  maxMessageSize,
  messageType,
  optionString,
  Opt,
  PXE_VENDOR_OPTIONS,
  userClasses,
  encode,
} from './options.js';
import { BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, encodePacket, macOf, parsePacket, type DhcpPacket } from './packet.js';
import type { PxeDecision, PxeFacts } from './pxe-policy.js';

export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;
/** PXE 2.1 §2.2.4: the boot server (ProxyDHCP) port. */
export const PXE_PORT = 4011;

export interface Incoming {
  data: Uint8Array;
  from: { address: string; port: number };
  /** Which of our ports it arrived on: 67, or 4011 for PXE boot-server requests. */
  localPort: number;
}

export interface Outgoing {
  data: Uint8Array;
  to: { address: string; port: number };
}

export interface DhcpHandler {
  /** Never rejects; malformed input gives no replies. */
  handle(message: Incoming): Promise<Outgoing[]>;
}

export function pxeFacts(p: DhcpPacket): PxeFacts {
  return {
    arch: clientArch(p),
    vendorClass: optionString(p, Opt.VendorClass),
    userClasses: userClasses(p),
    hasIpxeOptions: p.options.has(Opt.Ipxe),
  };
}

export interface ReplyFields {
  type: number;
  yiaddr?: string;
  ciaddr?: string;
  siaddr?: string;
  file?: string;
  /** Options after 53, in order of importance: the last are dropped first if the client's max size is small. */
  options: Array<[number, Uint8Array]>;
}

export function buildReply(req: DhcpPacket, f: ReplyFields): Uint8Array {
  const options = new Map<number, Uint8Array>([[Opt.MessageType, encode.u8(f.type)]]);
  for (const [code, value] of f.options) options.set(code, value);
  // RFC 3046 §2.2: echo the relay agent information back to the relay.
  const relay = req.options.get(Opt.RelayAgent);
  if (relay && req.giaddr !== '0.0.0.0') options.set(Opt.RelayAgent, relay);
  return encodePacket(
    {
      op: BOOTREPLY,
      htype: req.htype,
      hlen: req.hlen,
      hops: 0,
      xid: req.xid,
      secs: 0,
      flags: req.flags,
      ciaddr: f.ciaddr ?? '0.0.0.0',
      yiaddr: f.yiaddr ?? '0.0.0.0',
      siaddr: f.siaddr ?? '0.0.0.0',
      giaddr: req.giaddr,
      chaddr: req.chaddr,
      sname: '',
      file: f.file ?? '',
      options,
    },
    maxMessageSize(req),
  ).bytes;
}

/**
 * RFC 2131 §4.1: to the relay if there is one; to ciaddr if the client has an address;
 * otherwise broadcast. Unicast to yiaddr before the client has it needs an ARP entry
 * that Node cannot add, so non-broadcast clients get a broadcast too, which every
 * client accepts.
 */
export function destination(req: DhcpPacket, isNak: boolean): { address: string; port: number } {
  if (req.giaddr !== '0.0.0.0') return { address: req.giaddr, port: SERVER_PORT };
  if (!isNak && req.ciaddr !== '0.0.0.0') return { address: req.ciaddr, port: CLIENT_PORT };
  return { address: '255.255.255.255', port: CLIENT_PORT };
}

/** With a relay, ask it to broadcast the NAK (RFC 2131 §4.3.2). */
export function nakFlags(req: DhcpPacket): number {
  return req.giaddr !== '0.0.0.0' ? req.flags | BROADCAST_FLAG : req.flags;
}

/**
 * Options and header fields that tell a network-boot client what to load (docs/how-a-node-boots.md,
 * the DHCP offer).
 */
export function bootFields(
  req: DhcpPacket,
  decision: PxeDecision,
  serverIp: string,
  proxy: boolean,
): { siaddr: string; file: string; options: Array<[number, Uint8Array]> } {
  if (decision.kind === 'none') return { siaddr: '0.0.0.0', file: '', options: [] };
  const options: Array<[number, Uint8Array]> = [];
  if (decision.vendorClass) options.push([Opt.VendorClass, encode.str(decision.vendorClass)]);
  // PXE 2.1 §2.4: a ProxyDHCP offer must carry option 43, or the ROM ignores it.
  if (decision.vendorClass === 'PXEClient' && (proxy || decision.kind === 'tftp'))
    options.push([Opt.VendorSpecific, PXE_VENDOR_OPTIONS]);
  // PXE 2.1 and RFC 4578 §2.3: echo the machine identifier.
  const uuid = req.options.get(Opt.MachineUuid);
  if (uuid && machineUuid(req) !== null) options.push([Opt.MachineUuid, uuid]);
  options.push([Opt.TftpServer, encode.str(serverIp)]);
  options.push([Opt.BootFile, encode.str(decision.bootFile)]);
  return { siaddr: serverIp, file: decision.bootFile, options };
}

/**
 * A client's request from the wire, or null when it is not one: a malformed packet
 * (logged at debug, naming the offset) or a BOOTREPLY, or one with no usable MAC.
 */
export function readRequest(
  message: Incoming,
  logger: pino.Logger,
): { req: DhcpPacket; mac: string; type: number | null } | null {
  const parsed = parsePacket(message.data);
  if (!parsed.ok) {
    logger.debug({ from: message.from.address, error: parsed.error }, 'dhcp: malformed packet ignored');
    return null;
  }
  const req = parsed.packet;
  const mac = macOf(req);
  if (req.op !== BOOTREQUEST || mac === null) return null;
  return { req, mac, type: messageType(req) };
}
