// The one cookie Kindling sets; parsed by hand (RFC 6265 pairs) to need no plugin.
export const sessionCookie = 'kindling_session';

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookieHeader(options: { value: string; maxAgeSeconds: number; secure: boolean }): string {
  const parts = [
    `${sessionCookie}=${options.value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
