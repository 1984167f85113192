// Pure TFTP wire codec: bytes in, values out, no I/O (docs/architecture.md, the pure core).
// Formats: RFC 1350 section 5 (RRQ/WRQ/DATA/ACK/ERROR), RFC 2347 section 2 (options
// appended to requests) and section 3 (OACK).

export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;
export type OpcodeName = keyof typeof Opcode;

/** RFC 1350 appendix error codes, plus 8 from RFC 2347 section 3. */
export const TftpErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_NEGOTIATION: 8,
} as const;

/** Options in wire order, names as sent; repeats are kept so negotiation can refuse them. */
export type OptionList = ReadonlyArray<readonly [name: string, value: string]>;

export type Packet =
  | { op: 'RRQ' | 'WRQ'; filename: string; mode: string; options: OptionList }
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'ACK'; block: number }
  | { op: 'ERROR'; code: number; message: string }
  | { op: 'OACK'; options: OptionList };

export type DecodeResult = { ok: true; packet: Packet } | { ok: false; reason: string };

export const DATA_HEADER_BYTES = 4;
/** RFC 1350 section 2: blocks are 512 bytes unless blksize (RFC 2348) says otherwise. */
export const DEFAULT_BLKSIZE = 512;
/** RFC 2348 section 2: the blksize option ranges from 8 to 65464. */
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;

const opcodeNames: Record<number, OpcodeName> = { 1: 'RRQ', 2: 'WRQ', 3: 'DATA', 4: 'ACK', 5: 'ERROR', 6: 'OACK' };

/** Reads the opcode without decoding the rest; the transfer hot path only needs this and the block. */
export function readOpcode(buf: Uint8Array): number {
  return buf.length >= 2 ? (buf[0]! << 8) | buf[1]! : -1;
}

/** Block number of a DATA or ACK packet (bytes 2-3), or -1 when too short. */
export function readBlock(buf: Uint8Array): number {
  return buf.length >= 4 ? (buf[2]! << 8) | buf[3]! : -1;
}

/** Writes a DATA header in place so a transfer can reuse one buffer per window slot. */
export function writeDataHeader(buf: Buffer, block: number): void {
  buf[0] = 0;
  buf[1] = Opcode.DATA;
  buf[2] = (block >>> 8) & 0xff;
  buf[3] = block & 0xff;
}

/** Splits NUL-terminated strings from `start`; every string must be terminated (RFC 1350 section 5). */
function readStrings(buf: Buffer, start: number): string[] | string {
  const out: string[] = [];
  let at = start;
  while (at < buf.length) {
    const end = buf.indexOf(0, at);
    if (end === -1) return `string at byte ${at} has no NUL terminator`;
    out.push(buf.toString('utf8', at, end));
    at = end + 1;
  }
  return out;
}

function decodeOptions(strings: string[], from: number): OptionList | string {
  if ((strings.length - from) % 2 !== 0) return `option "${strings[strings.length - 1]}" has no value`;
  const options: Array<readonly [string, string]> = [];
  for (let i = from; i < strings.length; i += 2) {
    const name = strings[i]!;
    if (name === '') return 'an option name is empty';
    options.push([name, strings[i + 1]!]);
  }
  return options;
}

export function decodePacket(input: Uint8Array): DecodeResult {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const opcode = readOpcode(buf);
  const op = opcodeNames[opcode];
  if (op === undefined)
    return {
      ok: false,
      reason: buf.length < 2 ? `packet of ${buf.length} bytes is shorter than an opcode` : `unknown opcode ${opcode}`,
    };
  switch (op) {
    case 'RRQ':
    case 'WRQ': {
      const strings = readStrings(buf, 2);
      if (typeof strings === 'string') return { ok: false, reason: strings };
      if (strings.length < 2) return { ok: false, reason: 'request needs a filename and a mode' };
      const [filename, mode] = strings as [string, string];
      if (filename === '') return { ok: false, reason: 'filename is empty' };
      if (mode === '') return { ok: false, reason: 'mode is empty' };
      const options = decodeOptions(strings, 2);
      if (typeof options === 'string') return { ok: false, reason: options };
      return { ok: true, packet: { op, filename, mode, options } };
    }
    case 'DATA':
      if (buf.length < 4) return { ok: false, reason: 'DATA packet shorter than 4 bytes' };
      return { ok: true, packet: { op, block: readBlock(buf), data: buf.subarray(4) } };
    case 'ACK':
      // Some clients pad ACKs; RFC 1350 fixes the size at 4, so extra bytes are ignored, not refused.
      if (buf.length < 4) return { ok: false, reason: 'ACK packet shorter than 4 bytes' };
      return { ok: true, packet: { op, block: readBlock(buf) } };
    case 'ERROR': {
      if (buf.length < 4) return { ok: false, reason: 'ERROR packet shorter than 4 bytes' };
      // A missing terminator on an error message is tolerated: the peer is ending anyway.
      const end = buf.indexOf(0, 4);
      return {
        ok: true,
        packet: { op, code: readBlock(buf), message: buf.toString('utf8', 4, end === -1 ? buf.length : end) },
      };
    }
    case 'OACK': {
      const strings = readStrings(buf, 2);
      if (typeof strings === 'string') return { ok: false, reason: strings };
      const options = decodeOptions(strings, 0);
      if (typeof options === 'string') return { ok: false, reason: options };
      return { ok: true, packet: { op, options } };
    }
  }
}

function encodeStrings(opcode: number, strings: readonly string[]): Buffer {
  let length = 2;
  for (const s of strings) length += Buffer.byteLength(s) + 1;
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt16BE(opcode, 0);
  let at = 2;
  for (const s of strings) {
    at += buf.write(s, at);
    buf[at++] = 0;
  }
  return buf;
}

export function encodeRequest(op: 'RRQ' | 'WRQ', filename: string, mode: string, options: OptionList = []): Buffer {
  return encodeStrings(Opcode[op], [filename, mode, ...options.flat()]);
}

export function encodeOack(options: OptionList): Buffer {
  return encodeStrings(Opcode.OACK, options.flat());
}

export function encodeAck(block: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt16BE(Opcode.ACK, 0);
  buf.writeUInt16BE(block & 0xffff, 2);
  return buf;
}

export function encodeData(block: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(DATA_HEADER_BYTES + data.length);
  writeDataHeader(buf, block & 0xffff);
  buf.set(data, DATA_HEADER_BYTES);
  return buf;
}

/** Longest error message sent; keeps an ERROR inside the 512-byte datagram every client accepts. */
const MAX_ERROR_MESSAGE_BYTES = 400;

export function encodeError(code: number, message: string): Buffer {
  let text = message;
  while (Buffer.byteLength(text) > MAX_ERROR_MESSAGE_BYTES) text = text.slice(0, -1);
  const buf = Buffer.allocUnsafe(5 + Buffer.byteLength(text));
  buf.writeUInt16BE(Opcode.ERROR, 0);
  buf.writeUInt16BE(code & 0xffff, 2);
  const end = 4 + buf.write(text, 4);
  buf[end] = 0;
  return buf;
}
