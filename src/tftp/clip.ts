// Names and strings from requests end up in log lines and ERROR packets. A datagram can
// carry a 65 KB filename; it is shortened here, with a marker, so one request cannot make
// a 65 KB log line and fill the disk. Real boot file names are a few dozen characters.

/** Longest piece of a client's string kept in a log field or error message. */
export const MAX_SHOWN_CHARS = 256;

export function clip(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}...[${text.length - max} more characters]`;
}
