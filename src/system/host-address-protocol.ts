import { z } from 'zod';
import { cidrOf, intToIp, ipToInt } from '../net/ipv4.js';

// The appliance's own address, set from the page. Kindling runs unprivileged and may not
// touch the OS network; it writes a request file, and a root-side helper (a systemd path
// unit running `kindling host-address apply`, docs/appliance.md "The Pi's own address")
// applies it to NetworkManager for this boot only, waits for the operator to confirm from
// the new address, and makes it permanent or goes back, like `netplan try`. The helper
// trusts nothing in the request: it is parsed and checked again here, on the root side.

export const hostAddressRequestSchema = z.strictObject({
  /** Names this request in the status and the confirmation, so a stale confirm never applies. */
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  method: z.enum(['static', 'dhcp']),
  /** `10.77.0.3/24`; required for static. */
  address: z.string().max(18).nullable(),
  gateway: z.string().max(15).nullable(),
  dns: z.array(z.string().max(15)).max(3),
  /** How long the new address stays without a confirmation before the old one comes back. */
  confirmSeconds: z.number().int().min(30).max(900),
  /** Restart kindling.service once confirmed (its kindling.yaml changed a key read only at start). */
  restartKindling: z.boolean(),
});
export type HostAddressRequest = z.infer<typeof hostAddressRequestSchema>;

export const hostAddressConfirmSchema = z.strictObject({ id: hostAddressRequestSchema.shape.id });

export type HostAddressState = 'applying' | 'waiting-confirm' | 'confirmed' | 'reverted' | 'failed';

/** What the helper writes for Kindling (and the page) to read. */
export interface HostAddressStatus {
  id: string;
  state: HostAddressState;
  /** The request as applied, for the page to show. */
  method: 'static' | 'dhcp';
  address: string | null;
  /** ISO time the new address goes back unless confirmed; while waiting-confirm. */
  deadline: string | null;
  /** The device the connection is on, such as eth0. */
  device: string | null;
  /** What went wrong, for a person: failed, or reverted for a reason other than the clock. */
  error: string | null;
  at: string;
}

export const hostAddressStatusSchema = z.strictObject({
  id: z.string(),
  state: z.enum(['applying', 'waiting-confirm', 'confirmed', 'reverted', 'failed']),
  method: z.enum(['static', 'dhcp']),
  address: z.string().nullable(),
  deadline: z.string().nullable(),
  device: z.string().nullable(),
  error: z.string().nullable(),
  at: z.string(),
});

export interface HostAddressProblem {
  /** The request's key, such as address. */
  key: string;
  value: unknown;
  expected: string;
  message: string;
}

/** An address with its prefix, parsed: 10.77.0.3/24. */
export interface HostCidr {
  address: string;
  prefix: number;
  netmask: string;
  network: number;
  mask: number;
}

export function parseHostCidr(text: string): HostCidr | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  if (!m) return null;
  const n = ipToInt(m[1] as string);
  const prefix = Number(m[2]);
  if (Number.isNaN(n) || prefix < 1 || prefix > 32) return null;
  const mask = prefix === 32 ? 0xffffffff : (~(0xffffffff >>> prefix) >>> 0) >>> 0;
  return { address: m[1] as string, prefix, netmask: intToIp(mask), network: (n & mask) >>> 0, mask };
}

const EXPECT_CIDR = 'an address with its prefix, such as 10.77.0.3/24 (prefix 8 to 30)';
const EXPECT_IP = 'an IPv4 address such as 10.77.0.254';

/**
 * Every problem with a request; empty when the helper may apply it. The same function
 * checks the page's change in Kindling and the file on the root side.
 */
export function hostAddressProblems(
  request: Pick<HostAddressRequest, 'method' | 'address' | 'gateway' | 'dns'>,
): HostAddressProblem[] {
  const problems: HostAddressProblem[] = [];
  const add = (key: string, value: unknown, expected: string, what: string) =>
    problems.push({ key, value, expected, message: `${key} ${JSON.stringify(value)} ${what}; expected ${expected}` });
  const usable = (n: number) => {
    const first = n >>> 24;
    return first !== 0 && first !== 127 && first < 224 && !(first === 169 && ((n >>> 16) & 255) === 254);
  };
  request.dns.forEach((s, i) => {
    const n = ipToInt(s);
    if (Number.isNaN(n) || !usable(n)) add(`dns[${i}]`, s, EXPECT_IP, 'is not a unicast IPv4 address');
  });
  if (request.method === 'dhcp') {
    if (request.address !== null) add('address', request.address, 'null with method dhcp', 'is set');
    if (request.gateway !== null) add('gateway', request.gateway, 'null with method dhcp', 'is set');
    return problems;
  }
  const cidr = request.address === null ? null : parseHostCidr(request.address);
  if (request.address === null) add('address', null, EXPECT_CIDR, 'is missing for method static');
  else if (!cidr || cidr.prefix < 8 || cidr.prefix > 30) add('address', request.address, EXPECT_CIDR, 'is not one');
  if (!cidr || problems.length > 0) return problems;
  const n = ipToInt(cidr.address);
  const broadcast = (cidr.network | ~cidr.mask) >>> 0;
  const subnet = cidrOf(cidr.network, cidr.mask);
  if (!usable(n))
    add('address', request.address, 'a unicast address (not 0.x, 127.x, 169.254.x or multicast)', 'is not one');
  else if (n === cidr.network || n === broadcast)
    add('address', request.address, `a host address of ${subnet}`, 'is its network or broadcast address');
  if (request.gateway !== null) {
    const g = ipToInt(request.gateway);
    if (Number.isNaN(g)) add('gateway', request.gateway, EXPECT_IP, 'is not an IPv4 address');
    else if ((g & cidr.mask) >>> 0 !== cidr.network || g === cidr.network || g === broadcast)
      add('gateway', request.gateway, `a host address in ${subnet}`, 'is outside the subnet');
    else if (g === n) add('gateway', request.gateway, 'another machine than this one', 'is the address itself');
  }
  return problems;
}
