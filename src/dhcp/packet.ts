// BOOTP/DHCP wire codec (RFC 951, RFC 2131 §2, RFC 2132), pure: bytes in, bytes out,
// no I/O, no clock. Every option is kept as raw bytes; typed accessors live in
// options.ts. Parsing never throws: a malformed packet is an error value naming the
// offset, so the server can log it and carry on.

/** RFC 2131 §3: the first four octets of the options field. */
export const MAGIC_COOKIE = 0x63825363;
/** Fixed header (236 octets) plus the magic cookie. */
export const HEADER_SIZE = 240;
/** RFC 1542 §3.2.1: some relays and old clients drop BOOTP messages shorter than 300 octets. */
export const MIN_PACKET_SIZE = 300;
/** RFC 2131 §2: every client must accept 576-octet IP datagrams, so 548 octets of DHCP. */
export const DEFAULT_MAX_SIZE = 576;

import { ipToInt } from '../net/ipv4.js';

export { intToIp, ipToInt } from '../net/ipv4.js';

const OPT_PAD = 0;
const OPT_OVERLOAD = 52;
const OPT_END = 255;
const SNAME_OFFSET = 44;
const SNAME_SIZE = 64;
const FILE_OFFSET = 108;
const FILE_SIZE = 128;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** RFC 2131 §2, figure 2: the leftmost bit of `flags`. */
export const BROADCAST_FLAG = 0x8000;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** 16 octets; the hardware address is the first `hlen`. */
  chaddr: Uint8Array;
  /** Server host name; empty when the field carried options (overload). */
  sname: string;
  /** Boot file name; empty when the field carried options (overload). */
  file: string;
  /** Options by code, in order of first appearance; split options are joined (RFC 3396 §7). */
  options: Map<number, Uint8Array>;
}

export type ParseResult = { ok: true; packet: DhcpPacket } | { ok: false; error: string };

export function ipFromBytes(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

export function ipToBytes(ip: string): Uint8Array {
  const n = ipToInt(ip);
  const v = Number.isNaN(n) ? 0 : n;
  return Uint8Array.of((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

function cString(b: Uint8Array, at: number, size: number): string {
  let end = at;
  while (end < at + size && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('latin1');
}

/**
 * Reads one options area into `into`. Returns an error naming the offset when an
 * option's length runs past the area. A missing END is tolerated (many embedded
 * clients omit it), padding is skipped.
 */
function readOptions(
  b: Uint8Array,
  start: number,
  end: number,
  into: Map<number, Uint8Array>,
  where: string,
): string | null {
  let i = start;
  while (i < end) {
    const code = b[i]!;
    if (code === OPT_END) return null;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= end) return `option ${code} at ${where} offset ${i} has no length octet`;
    const len = b[i + 1]!;
    if (i + 2 + len > end)
      return `option ${code} at ${where} offset ${i} claims ${len} octets but only ${end - i - 2} remain`;
    const value = b.subarray(i + 2, i + 2 + len);
    const prev = into.get(code);
    // RFC 3396 §7: repeated instances of one option are concatenated in order.
    into.set(code, prev ? concat(prev, value) : Uint8Array.from(value));
    i += 2 + len;
  }
  return null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function parsePacket(bytes: Uint8Array): ParseResult {
  if (bytes.length < HEADER_SIZE)
    return { ok: false, error: `truncated: ${bytes.length} octets, a DHCP message needs at least ${HEADER_SIZE}` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cookie = view.getUint32(236);
  if (cookie !== MAGIC_COOKIE)
    return {
      ok: false,
      error: `magic cookie is 0x${cookie.toString(16).padStart(8, '0')}, expected 0x63825363 (RFC 2131 §3)`,
    };
  const hlen = bytes[2]!;
  if (hlen > 16) return { ok: false, error: `hlen is ${hlen}, at most 16 fits chaddr` };

  const options = new Map<number, Uint8Array>();
  const err = readOptions(bytes, HEADER_SIZE, bytes.length, options, 'options');
  if (err) return { ok: false, error: err };

  // RFC 2132 §9.3: overload moves more options into `file` (1), `sname` (2) or both (3).
  // Only the main area may declare it; one declared inside file/sname is ignored, so
  // an overload can never loop.
  const overloadOpt = options.get(OPT_OVERLOAD);
  const overload = overloadOpt && overloadOpt.length === 1 ? overloadOpt[0]! : 0;
  const fileHasOptions = overload === 1 || overload === 3;
  const snameHasOptions = overload === 2 || overload === 3;
  // RFC 2131 §4.1: options, then file, then sname.
  if (fileHasOptions) {
    const extra = new Map<number, Uint8Array>();
    const e = readOptions(bytes, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, extra, 'file');
    if (e) return { ok: false, error: e };
    mergeOptions(options, extra);
  }
  if (snameHasOptions) {
    const extra = new Map<number, Uint8Array>();
    const e = readOptions(bytes, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, extra, 'sname');
    if (e) return { ok: false, error: e };
    mergeOptions(options, extra);
  }

  return {
    ok: true,
    packet: {
      op: bytes[0]!,
      htype: bytes[1]!,
      hlen,
      hops: bytes[3]!,
      xid: view.getUint32(4),
      secs: view.getUint16(8),
      flags: view.getUint16(10),
      ciaddr: ipFromBytes(bytes, 12),
      yiaddr: ipFromBytes(bytes, 16),
      siaddr: ipFromBytes(bytes, 20),
      giaddr: ipFromBytes(bytes, 24),
      chaddr: Uint8Array.from(bytes.subarray(28, 44)),
      sname: snameHasOptions ? '' : cString(bytes, SNAME_OFFSET, SNAME_SIZE),
      file: fileHasOptions ? '' : cString(bytes, FILE_OFFSET, FILE_SIZE),
      options,
    },
  };
}

function mergeOptions(into: Map<number, Uint8Array>, extra: Map<number, Uint8Array>): void {
  for (const [code, value] of extra) {
    if (code === OPT_OVERLOAD) continue;
    const prev = into.get(code);
    into.set(code, prev ? concat(prev, value) : value);
  }
}

/** Splits each option into 255-octet pieces (RFC 3396), each piece as code|len|data. */
function encodeOptionPieces(options: Map<number, Uint8Array>): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (const [code, value] of options) {
    if (code === OPT_PAD || code === OPT_END || code === OPT_OVERLOAD) continue;
    if (value.length === 0) {
      pieces.push(Uint8Array.of(code, 0));
      continue;
    }
    for (let at = 0; at < value.length; at += 255) {
      const part = value.subarray(at, Math.min(at + 255, value.length));
      const piece = new Uint8Array(2 + part.length);
      piece[0] = code;
      piece[1] = part.length;
      piece.set(part, 2);
      pieces.push(piece);
    }
  }
  return pieces;
}

export interface EncodeResult {
  bytes: Buffer;
  /** Option codes that did not fit in `maxSize`, even with overload; callers order options by importance. */
  dropped: number[];
}

/**
 * Builds the wire form. Options go in the options field; when they do not fit in
 * `maxSize` (the client's option 57, RFC 2132 §9.10) and `file`/`sname` are empty,
 * the rest overflow into them with option 52 (RFC 2132 §9.3).
 */
export function encodePacket(p: DhcpPacket, maxSize = DEFAULT_MAX_SIZE): EncodeResult {
  const limit = Math.max(MIN_PACKET_SIZE, Math.min(maxSize, 65_507));
  const pieces = encodeOptionPieces(p.options);
  const main: Uint8Array[] = [];
  const fileArea: Uint8Array[] = [];
  const snameArea: Uint8Array[] = [];
  const dropped: number[] = [];
  const canUseFile = p.file.length === 0;
  const canUseSname = p.sname.length === 0;
  let mainRoom = limit - HEADER_SIZE - 1; // END
  const total = pieces.reduce((s, x) => s + x.length, 0);
  const overloadNeeded = total > mainRoom && (canUseFile || canUseSname);
  if (overloadNeeded) mainRoom -= 3;
  let fileRoom = overloadNeeded && canUseFile ? FILE_SIZE - 1 : 0;
  let snameRoom = overloadNeeded && canUseSname ? SNAME_SIZE - 1 : 0;
  for (const piece of pieces) {
    if (piece.length <= mainRoom) {
      main.push(piece);
      mainRoom -= piece.length;
    } else if (piece.length <= fileRoom) {
      fileArea.push(piece);
      fileRoom -= piece.length;
    } else if (piece.length <= snameRoom) {
      snameArea.push(piece);
      snameRoom -= piece.length;
    } else if (!dropped.includes(piece[0]!)) {
      dropped.push(piece[0]!);
    }
  }
  const overload = (fileArea.length ? 1 : 0) | (snameArea.length ? 2 : 0);
  const mainLen = main.reduce((s, x) => s + x.length, 0) + (overload ? 3 : 0) + 1;
  const size = Math.max(MIN_PACKET_SIZE, HEADER_SIZE + mainLen);
  const out = Buffer.alloc(size);
  out[0] = p.op;
  out[1] = p.htype;
  out[2] = Math.min(p.hlen, 16);
  out[3] = p.hops;
  out.writeUInt32BE(p.xid >>> 0, 4);
  out.writeUInt16BE(p.secs & 0xffff, 8);
  out.writeUInt16BE(p.flags & 0xffff, 10);
  out.set(ipToBytes(p.ciaddr), 12);
  out.set(ipToBytes(p.yiaddr), 16);
  out.set(ipToBytes(p.siaddr), 20);
  out.set(ipToBytes(p.giaddr), 24);
  out.set(p.chaddr.subarray(0, 16), 28);
  writeArea(out, SNAME_OFFSET, SNAME_SIZE, snameArea, p.sname);
  writeArea(out, FILE_OFFSET, FILE_SIZE, fileArea, p.file);
  out.writeUInt32BE(MAGIC_COOKIE, 236);
  let at = HEADER_SIZE;
  if (overload) {
    out[at++] = OPT_OVERLOAD;
    out[at++] = 1;
    out[at++] = overload;
  }
  for (const piece of main) {
    out.set(piece, at);
    at += piece.length;
  }
  out[at] = OPT_END;
  return { bytes: out, dropped };
}

function writeArea(out: Buffer, offset: number, size: number, pieces: Uint8Array[], text: string): void {
  if (pieces.length) {
    let at = offset;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    out[at] = OPT_END;
    return;
  }
  // Leave room for the terminating NUL.
  out.write(text.slice(0, size - 1), offset, 'latin1');
}

/** The client hardware address in Kindling's MAC form, or null when it is not Ethernet. */
export function macOf(p: DhcpPacket): string | null {
  if (p.htype !== 1 || p.hlen !== 6) return null;
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(p.chaddr[i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function macToChaddr(mac: string): Uint8Array {
  const out = new Uint8Array(16);
  mac.split(':').forEach((h, i) => {
    if (i < 16) out[i] = Number.parseInt(h, 16) & 255;
  });
  return out;
}
