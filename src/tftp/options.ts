// Option negotiation for a read request: pure, so the rules are tested by table.
// RFC 2347 (framework, OACK), 2348 (blksize), 2349 (timeout, tsize), 7440 (windowsize).
import { clip } from './clip.js';
import { DEFAULT_BLKSIZE, MAX_BLKSIZE, MIN_BLKSIZE, type OptionList } from './packet.js';

export interface NegotiationLimits {
  /** Largest blksize granted (config `tftp.maxBlksize`). */
  maxBlksize: number;
  /** Largest windowsize granted. */
  maxWindowsize: number;
  /** Cap on blksize x windowsize: one window is buffered per transfer, so this bounds memory. */
  maxWindowBytes: number;
  /** Largest client timeout granted, in seconds (config `tftp.maxTimeoutSeconds`). */
  maxTimeoutSeconds: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Client-chosen retransmission timeout in ms (RFC 2349), or null for the server's own back-off. */
  timeoutMs: number | null;
  /** Options to acknowledge, in request order; null means no OACK (RFC 2347: none accepted). */
  oack: Array<[string, string]> | null;
}

export type NegotiationResult = { ok: true; value: Negotiated } | { ok: false; reason: string };

const DECIMAL = /^[0-9]{1,10}$/;

function parseDecimal(value: string): number | null {
  return DECIMAL.test(value) ? Number(value) : null;
}

/**
 * Picks the options to grant. Unknown options and out-of-range values are left out of
 * the OACK, which RFC 2347 section 3 allows and which makes the client fall back to the
 * RFC 1350 default; a repeated option is refused, since which copy the client meant is
 * not knowable.
 */
export function negotiate(options: OptionList, fileSize: number, limits: NegotiationLimits): NegotiationResult {
  const seen = new Set<string>();
  const oack: Array<[string, string]> = [];
  let blksize = DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutMs: number | null = null;
  let windowIndex = -1;

  for (const [rawName, value] of options) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) return { ok: false, reason: `option "${clip(name, 64)}" appears more than once` };
    seen.add(name);
    const n = parseDecimal(value);
    switch (name) {
      case 'blksize':
        // RFC 2348 section 2: 8..65464; the server may answer with a smaller size.
        if (n === null || n < MIN_BLKSIZE || n > MAX_BLKSIZE) continue;
        blksize = Math.min(n, limits.maxBlksize);
        oack.push(['blksize', String(blksize)]);
        break;
      case 'tsize':
        // RFC 2349 section 5: a read request carries 0 and the server answers with the size.
        if (n === null) continue;
        oack.push(['tsize', String(fileSize)]);
        break;
      case 'timeout':
        // RFC 2349: 1..255 seconds, and the OACK must carry the client's value or leave the
        // option out, so a value over the cap is left out and the server's own back-off
        // applies: a never-acking client then frees its slot in ~40 s, not 7 x 255 s.
        if (n === null || n < 1 || n > 255 || n > limits.maxTimeoutSeconds) continue;
        timeoutMs = n * 1000;
        oack.push(['timeout', String(n)]);
        break;
      case 'windowsize':
        // RFC 7440 section 3: 1..65535; the server may answer with a smaller window.
        if (n === null || n < 1 || n > 65535) continue;
        windowsize = Math.min(n, limits.maxWindowsize);
        windowIndex = oack.length;
        oack.push(['windowsize', String(windowsize)]);
        break;
      default:
        continue;
    }
  }
  // Applied after the loop because blksize may come after windowsize in the request.
  const byBytes = Math.max(1, Math.floor(limits.maxWindowBytes / blksize));
  if (windowsize > byBytes) {
    windowsize = byBytes;
    oack[windowIndex] = ['windowsize', String(windowsize)];
  }
  return { ok: true, value: { blksize, windowsize, timeoutMs, oack: oack.length > 0 ? oack : null } };
}

/** RFC 1350 modes; "mail" is obsolete and refused. */
export type TransferMode = 'octet' | 'netascii';

export function parseMode(mode: string): TransferMode | null {
  const m = mode.toLowerCase();
  return m === 'octet' || m === 'netascii' ? m : null;
}
