// Address arithmetic and the start-up check of the full-mode pool: a range outside the
// interface's subnet, one containing the server itself, or an empty one is refused
// with a message naming the key, the value and what was expected.
import { KindlingError } from '../errors.js';
import { intToIp, ipToInt } from './packet.js';

export interface Pool {
  start: number;
  end: number;
  mask: number;
  network: number;
  broadcast: number;
  size: number;
}

function maskIsContiguous(mask: number): boolean {
  const inverted = ~mask >>> 0;
  return ((inverted + 1) & inverted) === 0;
}

export function inSubnet(ip: string, pool: Pick<Pool, 'network' | 'mask'>): boolean {
  const n = ipToInt(ip);
  return !Number.isNaN(n) && ((n & pool.mask) >>> 0) === pool.network;
}

export function inRange(ip: string, pool: Pick<Pool, 'start' | 'end'>): boolean {
  const n = ipToInt(ip);
  return !Number.isNaN(n) && n >= pool.start && n <= pool.end;
}

/** Checks `dhcp.range` against `dhcp.subnetMask` and the server's address; throws DHCP_RANGE_INVALID. */
export function makePool(options: { range: { start: string; end: string }; subnetMask: string; serverIp: string }): Pool {
  const fail = (message: string): never => {
    throw new KindlingError('DHCP_RANGE_INVALID', message, { range: options.range, subnetMask: options.subnetMask, serverIp: options.serverIp });
  };
  const start = ipToInt(options.range.start);
  const end = ipToInt(options.range.end);
  const mask = ipToInt(options.subnetMask);
  const server = ipToInt(options.serverIp);
  if (Number.isNaN(server)) fail(`server address ${JSON.stringify(options.serverIp)} is not an IPv4 address; expected the address of dhcp.interface`);
  if (Number.isNaN(mask) || !maskIsContiguous(mask) || mask === 0) fail(`dhcp.subnetMask ${options.subnetMask} is not a netmask; expected one such as 255.255.255.0`);
  if (end < start) fail(`dhcp.range is empty: start ${options.range.start} is after end ${options.range.end}; expected start <= end`);
  const network = (server & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const cidr = `${intToIp(network)}/${32 - Math.log2((~mask >>> 0) + 1)}`;
  for (const [key, n, text] of [
    ['start', start, options.range.start],
    ['end', end, options.range.end],
  ] as const) {
    if (((n & mask) >>> 0) !== network) fail(`dhcp.range.${key} ${text} is outside the server's subnet ${cidr} (server ${options.serverIp}, mask ${options.subnetMask}); expected an address in ${cidr}`);
  }
  if (start === network || end === broadcast) fail(`dhcp.range ${options.range.start}-${options.range.end} includes the network or broadcast address of ${cidr}; expected host addresses only`);
  if (server >= start && server <= end) fail(`dhcp.range ${options.range.start}-${options.range.end} contains the server's own address ${options.serverIp}; expected a range that leaves it out`);
  return { start, end, mask, network, broadcast, size: end - start + 1 };
}
