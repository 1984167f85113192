import { KindlingError } from '../errors.js';

const macPattern = /^([0-9a-f]{2})([:-]?)([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/**
 * Parses a MAC address in the forms people and firmware write: 52:54:00:aa:bb:cc,
 * 52-54-00-aa-bb-cc (iPXE's :hexhyp), 525400aabbcc, any case. Returns the canonical
 * lower-case colon form used as the inventory key.
 */
export function parseMac(text: string): string {
  const m = macPattern.exec(text.trim());
  if (!m) {
    throw new KindlingError(
      'MAC_INVALID',
      `"${text.slice(0, 40)}" is not a MAC address; expected six hex pairs ` +
        `such as 52:54:00:aa:bb:cc or 52-54-00-aa-bb-cc`,
      { value: text.slice(0, 40) },
    );
  }
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
}

export function tryParseMac(text: string): string | null {
  return macPattern.test(text.trim()) ? parseMac(text) : null;
}

/** 52-54-00-aa-bb-cc: the form pxelinux.cfg file names and iPXE's :hexhyp use. */
export function macHyphen(mac: string): string {
  return mac.replace(/:/g, '-');
}
