// The few DER encodings (ITU-T X.690 §8, §10) an X.509 certificate needs, so that the
// self-signed certificate needs no library (docs/decisions.md, "HTTPS"). Encoding only:
// Node's X509Certificate parses and checks what this produces.

export type Der = Buffer;

/** Tag, definite length (X.690 §8.1.3: short form below 128, else long form), contents. */
export function tlv(tag: number, contents: Uint8Array): Der {
  const n = contents.length;
  let length: number[];
  if (n < 0x80) length = [n];
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...length]), contents]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));
export const set = (...items: Der[]): Der => tlv(0x31, Buffer.concat(items));
export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const utf8String = (text: string): Der => tlv(0x0c, Buffer.from(text, 'utf8'));
export const boolean = (value: boolean): Der => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** A BIT STRING of whole bytes: the first content byte counts the unused bits (none). */
export const bitString = (bytes: Uint8Array): Der => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
/** [n] EXPLICIT: a constructed context-specific wrapper around one encoding. */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);
/** [n] IMPLICIT of a primitive type: the contents under a context-specific tag. */
export const implicit = (n: number, contents: Uint8Array): Der => tlv(0x80 | n, contents);

/** A non-negative INTEGER from its big-endian bytes, minimal (X.690 §8.3.2) and positive. */
export function unsignedInteger(bytes: Uint8Array): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** OBJECT IDENTIFIER (X.690 §8.19): the first two arcs in one byte, then base 128. */
export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const bytes = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift(0x80 | (rest & 0x7f));
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * An X.509 Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050,
 * both in UTC with seconds and no fraction.
 */
export function time(date: Date): Der {
  const iso = date.toISOString(); // 2026-12-07T01:53:15.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261207015315
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`${iso}: an X.509 time is between 1950 and 9999`);
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}
