import { describe, expect, it } from 'vitest';
import {
  clientArch,
  clientId,
  clientNdi,
  machineUuid,
  maxMessageSize,
  messageType,
  Opt,
  optionIp,
  optionString,
  userClasses,
} from '../../src/dhcp/options.js';
import { encodePacket, macOf, MAGIC_COOKIE, parsePacket, type DhcpPacket } from '../../src/dhcp/packet.js';
import { clientPacket, MessageType, parsed } from './support/packets.js';

function base(): DhcpPacket {
  return parsed(
    clientPacket({ type: MessageType.Discover, mac: '52:54:00:aa:bb:cc', xid: 0xdeadbeef, broadcast: true }),
  );
}

describe('packet codec', () => {
  it('round-trips the header and options', () => {
    const p = base();
    p.siaddr = '10.0.0.1';
    p.giaddr = '10.0.1.1';
    p.file = 'undionly.kpxe';
    p.sname = 'kindling';
    p.options.set(Opt.VendorClass, Uint8Array.from(Buffer.from('PXEClient:Arch:00000:UNDI:002001')));
    const again = parsed(encodePacket(p).bytes);
    expect(again).toEqual(p);
    expect(macOf(again)).toBe('52:54:00:aa:bb:cc');
    expect(again.xid).toBe(0xdeadbeef);
    expect(again.flags).toBe(0x8000);
  });

  it('pads to 300 octets and ends with END (RFC 1542 §3.2.1)', () => {
    const bytes = encodePacket(base()).bytes;
    expect(bytes.length).toBe(300);
    expect(bytes.readUInt32BE(236)).toBe(MAGIC_COOKIE);
  });

  it('splits and joins options longer than 255 octets (RFC 3396)', () => {
    const p = base();
    const long = Buffer.alloc(600, 7);
    p.options.set(Opt.VendorSpecific, long);
    const again = parsed(encodePacket(p, 1500).bytes);
    expect(Buffer.from(again.options.get(Opt.VendorSpecific)!)).toEqual(long);
  });

  it('overflows into file and sname with option 52 when the client max size is small', () => {
    const p = base();
    for (let code = 200; code < 210; code++) p.options.set(code, Buffer.alloc(40, code));
    const { bytes, dropped } = encodePacket(p, 576);
    expect(bytes.length).toBeLessThanOrEqual(576);
    const again = parsed(bytes);
    expect(dropped).toEqual([]);
    for (let code = 200; code < 210; code++)
      expect(Buffer.from(again.options.get(code)!)).toEqual(Buffer.alloc(40, code));
  });

  it('reads options from file and sname when overloaded, ignoring a nested 52', () => {
    const bytes = Buffer.from(encodePacket(base()).bytes);
    // main: ... 52=3 END; file: 67 "x" 52=1 END; sname: 12 "h" END
    let at = 240;
    while (bytes[at] !== 255) at += 2 + bytes[at + 1]!;
    bytes.set([52, 1, 3, 255], at);
    bytes.set([67, 1, 0x78, 52, 1, 1, 255], 108);
    bytes.set([12, 1, 0x68, 255], 44);
    const p = parsed(bytes);
    expect(optionString(p, Opt.BootFile)).toBe('x');
    expect(optionString(p, Opt.HostName)).toBe('h');
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
  });

  it.each([
    ['truncated', Buffer.alloc(100), /truncated: 100 octets/],
    ['wrong cookie', Buffer.alloc(300), /magic cookie is 0x00000000/],
  ])('rejects a %s packet with a message', (_name, bytes, message) => {
    const r = parsePacket(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('rejects an option running past the end, naming the offset', () => {
    const bytes = Buffer.from(encodePacket(base()).bytes.subarray(0, 250));
    bytes[240] = 12;
    bytes[241] = 40;
    const r = parsePacket(bytes);
    expect(r).toEqual({ ok: false, error: 'option 12 at options offset 240 claims 40 octets but only 8 remain' });
  });

  it('tolerates a missing END and a zero-length client id', () => {
    const p = base();
    p.options.set(Opt.ClientId, new Uint8Array(0));
    const bytes = encodePacket(p).bytes;
    const cut = bytes.subarray(0, bytes.indexOf(255, 240));
    const again = parsed(cut);
    expect(messageType(again)).toBe(MessageType.Discover);
    expect(clientId(again)).toBeNull();
  });
});

describe('typed options', () => {
  it('reads the PXE options (RFC 4578) and the iPXE user class', () => {
    const p = parsed(
      clientPacket({
        type: 1,
        mac: '52:54:00:00:00:01',
        vendorClass: 'PXEClient:Arch:00007:UNDI:003016',
        arch: 7,
        uuid: true,
        userClass: 'iPXE',
        extra: [
          [94, Uint8Array.of(1, 3, 16)],
          [57, Uint8Array.of(5, 192)],
        ],
      }),
    );
    expect(clientArch(p)).toBe(7);
    expect(clientNdi(p)).toEqual({ type: 1, major: 3, minor: 16 });
    expect(machineUuid(p)).toBe('00010203-0405-0607-0809-0a0b0c0d0e0f');
    expect(userClasses(p)).toContain('iPXE');
    expect(maxMessageSize(p)).toBe(1472);
  });

  it('takes the arch from the vendor class when option 93 is missing', () => {
    const p = parsed(
      clientPacket({ type: 1, mac: '52:54:00:00:00:01', vendorClass: 'PXEClient:Arch:00000:UNDI:002001' }),
    );
    expect(clientArch(p)).toBe(0);
  });

  it('reads RFC 3004 framed user classes too', () => {
    const p = parsed(
      clientPacket({
        type: 1,
        mac: '52:54:00:00:00:01',
        extra: [[77, Uint8Array.from([4, ...Buffer.from('iPXE'), 3, ...Buffer.from('foo')])]],
      }),
    );
    expect(userClasses(p)).toEqual(expect.arrayContaining(['iPXE', 'foo']));
  });

  it('returns null for malformed typed values', () => {
    const p = parsed(
      clientPacket({
        type: 1,
        mac: '52:54:00:00:00:01',
        extra: [
          [50, Uint8Array.of(1, 2)],
          [57, Uint8Array.of(1, 0)],
          [93, Uint8Array.of(1)],
        ],
      }),
    );
    expect(optionIp(p, 50)).toBeNull();
    expect(maxMessageSize(p)).toBe(576);
    expect(clientArch(p)).toBeNull();
  });
});
