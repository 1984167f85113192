// netascii (RFC 1350 section 5 via RFC 764): LF becomes CR LF and a bare CR becomes CR NUL.
// Boot loaders ask for octet; this exists for hand-run clients whose default is netascii.

export function toNetascii(input: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < input.length; i++) if (input[i] === 0x0a || input[i] === 0x0d) extra++;
  if (extra === 0) return input;
  const out = Buffer.allocUnsafe(input.length + extra);
  let at = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x0a) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    } else if (c === 0x0d) {
      out[at++] = 0x0d;
      out[at++] = 0x00;
    } else out[at++] = c;
  }
  return out;
}
