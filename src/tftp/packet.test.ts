import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  readBlock,
  readOpcode,
  writeDataHeader,
  type Packet,
} from './packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('decodePacket: table', () => {
  const good: Array<[string, Buffer, Packet]> = [
    [
      'RRQ octet',
      Buffer.from('\x00\x01ipxe.efi\x00octet\x00', 'latin1'),
      { op: 'RRQ', filename: 'ipxe.efi', mode: 'octet', options: [] },
    ],
    [
      'RRQ with EDK2 options',
      Buffer.from('\x00\x01ipxe.efi\x00octet\x00blksize\x001468\x00tsize\x000\x00windowsize\x004\x00', 'latin1'),
      {
        op: 'RRQ',
        filename: 'ipxe.efi',
        mode: 'octet',
        options: [
          ['blksize', '1468'],
          ['tsize', '0'],
          ['windowsize', '4'],
        ],
      },
    ],
    [
      'WRQ',
      Buffer.from('\x00\x02up\x00netascii\x00', 'latin1'),
      { op: 'WRQ', filename: 'up', mode: 'netascii', options: [] },
    ],
    ['DATA', hex('0003 0001 deadbeef'), { op: 'DATA', block: 1, data: hex('deadbeef') }],
    ['empty DATA', hex('0003 ffff'), { op: 'DATA', block: 65535, data: Buffer.alloc(0) }],
    ['ACK', hex('0004 1234'), { op: 'ACK', block: 0x1234 }],
    ['padded ACK', hex('0004 0002 0000'), { op: 'ACK', block: 2 }],
    ['ERROR', Buffer.from('\x00\x05\x00\x01nope\x00', 'latin1'), { op: 'ERROR', code: 1, message: 'nope' }],
    ['ERROR without NUL', Buffer.from('\x00\x05\x00\x08bad', 'latin1'), { op: 'ERROR', code: 8, message: 'bad' }],
    ['OACK', Buffer.from('\x00\x06blksize\x001432\x00', 'latin1'), { op: 'OACK', options: [['blksize', '1432']] }],
    ['empty OACK', hex('0006'), { op: 'OACK', options: [] }],
  ];
  it.each(good)('%s', (_name, bytes, packet) => {
    expect(decodePacket(bytes)).toEqual({ ok: true, packet });
  });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /shorter than an opcode/],
    ['one byte', hex('00'), /shorter than an opcode/],
    ['opcode 0', hex('0000'), /unknown opcode 0/],
    ['opcode 7', hex('0007 0000'), /unknown opcode 7/],
    ['RRQ without any NUL', Buffer.from('\x00\x01ipxe.efi', 'latin1'), /no NUL terminator/],
    ['RRQ mode without NUL', Buffer.from('\x00\x01ipxe.efi\x00octet', 'latin1'), /no NUL terminator/],
    ['RRQ with no mode', Buffer.from('\x00\x01ipxe.efi\x00', 'latin1'), /filename and a mode/],
    ['RRQ empty filename', Buffer.from('\x00\x01\x00octet\x00', 'latin1'), /filename is empty/],
    ['RRQ empty mode', Buffer.from('\x00\x01f\x00\x00', 'latin1'), /mode is empty/],
    ['RRQ option without value', Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), /has no value/],
    [
      'RRQ option value without NUL',
      Buffer.from('\x00\x01f\x00octet\x00blksize\x001468', 'latin1'),
      /no NUL terminator/,
    ],
    ['RRQ empty option name', Buffer.from('\x00\x01f\x00octet\x00\x001\x00', 'latin1'), /name is empty/],
    ['short DATA', hex('0003 00'), /shorter than 4/],
    ['short ACK', hex('0004 00'), /shorter than 4/],
    ['short ERROR', hex('0005'), /shorter than 4/],
  ];
  it.each(bad)('refuses %s', (_name, bytes, reason) => {
    const result = decodePacket(bytes);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

function encode(p: Packet): Buffer {
  switch (p.op) {
    case 'RRQ':
    case 'WRQ':
      return encodeRequest(p.op, p.filename, p.mode, p.options);
    case 'OACK':
      return encodeOack(p.options);
    case 'DATA':
      return encodeData(p.block, p.data);
    case 'ACK':
      return encodeAck(p.block);
    case 'ERROR':
      return encodeError(p.code, p.message);
  }
}

describe('encoders', () => {
  it('round-trip requests, OACK, DATA, ACK and ERROR', () => {
    const packets: Packet[] = [
      {
        op: 'RRQ',
        filename: 'pxelinux.cfg/01-52-54-00-55-1c-ee',
        mode: 'octet',
        options: [
          ['blksize', '1432'],
          ['tsize', '0'],
        ],
      },
      { op: 'WRQ', filename: 'x', mode: 'octet', options: [] },
      { op: 'OACK', options: [['windowsize', '4']] },
      { op: 'DATA', block: 65535, data: randomBytes(512) },
      { op: 'ACK', block: 0 },
      { op: 'ERROR', code: 5, message: 'unknown transfer ID' },
    ];
    for (const p of packets) {
      const bytes = encode(p);
      expect(decodePacket(bytes)).toEqual({ ok: true, packet: p });
    }
  });

  it('encodes exact bytes', () => {
    expect(encodeAck(0x10001)).toEqual(hex('0004 0001'));
    expect(encodeError(2, 'no')).toEqual(hex('0005 0002 6e6f 00'));
    expect(encodeOack([['tsize', '9']])).toEqual(Buffer.from('\x00\x06tsize\x009\x00', 'latin1'));
  });

  it('keeps ERROR packets under 512 bytes', () => {
    expect(encodeError(0, 'x'.repeat(2000)).length).toBeLessThan(512);
    expect(encodeError(0, 'é'.repeat(2000)).length).toBeLessThan(512);
  });

  it('hot-path helpers read and write headers in place', () => {
    const buf = Buffer.alloc(8);
    writeDataHeader(buf, 0xabcd);
    expect(readOpcode(buf)).toBe(3);
    expect(readBlock(buf)).toBe(0xabcd);
    expect(readOpcode(hex('00'))).toBe(-1);
    expect(readBlock(hex('0004 00'))).toBe(-1);
  });
});

describe('decodePacket: fuzz', () => {
  // A fixed-seed generator so a failure reproduces.
  let seed = 0x2545f491;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const randomPacket = (): Buffer => {
    const length = next() % 80;
    const buf = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      const r = next() % 10;
      // Bias towards NULs, small opcodes and ASCII so decoding gets past the first checks.
      buf[i] = r < 3 ? 0 : r < 5 ? next() % 8 : r < 8 ? 97 + (next() % 26) : next() % 256;
    }
    return buf;
  };

  it('never throws on 20,000 random packets, and what decodes re-encodes to a decodable packet', () => {
    for (let i = 0; i < 20_000; i++) {
      const bytes = randomPacket();
      const result = decodePacket(bytes);
      if (!result.ok) {
        expect(typeof result.reason).toBe('string');
        continue;
      }
      const p = result.packet;
      if (p.op === 'RRQ' || p.op === 'WRQ')
        expect(decodePacket(encodeRequest(p.op, p.filename, p.mode, p.options)).ok).toBe(true);
      if (p.op === 'OACK') expect(decodePacket(encodeOack(p.options)).ok).toBe(true);
    }
  });

  it('never throws on truncations of valid packets', () => {
    const full = encodeRequest('RRQ', 'ipxe.efi', 'octet', [
      ['blksize', '1468'],
      ['tsize', '0'],
    ]);
    for (let n = 0; n <= full.length; n++) expect(() => decodePacket(full.subarray(0, n))).not.toThrow();
  });
});
