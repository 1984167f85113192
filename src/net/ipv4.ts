// IPv4 address arithmetic and the checks of a DHCP pool, pure and below every service:
// the configuration schema, the DHCP service and the network settings all use it. A
// range outside the interface's subnet, one containing the server itself, or an empty
// one is refused with a message naming the key, the value and what was expected.
import { KindlingError } from '../errors.js';

/** Dotted quad to 32-bit unsigned; NaN when it is not one. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return Number.NaN;
    const v = Number(p);
    if (v > 255) return Number.NaN;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

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
  return !Number.isNaN(n) && (n & pool.mask) >>> 0 === pool.network;
}

export function inRange(ip: string, pool: Pick<Pool, 'start' | 'end'>): boolean {
  const n = ipToInt(ip);
  return !Number.isNaN(n) && n >= pool.start && n <= pool.end;
}

/** Checks `dhcp.range` against `dhcp.subnetMask` and the server's address; throws DHCP_RANGE_INVALID. */
export function makePool(options: {
  range: { start: string; end: string };
  subnetMask: string;
  serverIp: string;
}): Pool {
  const fail = (message: string): never => {
    throw new KindlingError('DHCP_RANGE_INVALID', message, {
      range: options.range,
      subnetMask: options.subnetMask,
      serverIp: options.serverIp,
    });
  };
  const start = ipToInt(options.range.start);
  const end = ipToInt(options.range.end);
  const mask = ipToInt(options.subnetMask);
  const server = ipToInt(options.serverIp);
  if (Number.isNaN(server))
    fail(
      `server address ${JSON.stringify(options.serverIp)} is not an IPv4 ` +
        `address; expected the address of dhcp.interface`,
    );
  if (Number.isNaN(mask) || !maskIsContiguous(mask) || mask === 0)
    fail(`dhcp.subnetMask ${options.subnetMask} is not a netmask; expected one such as 255.255.255.0`);
  if (end < start)
    fail(`dhcp.range is empty: start ${options.range.start} is after end ${options.range.end}; expected start <= end`);
  const network = (server & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const cidr = `${intToIp(network)}/${32 - Math.log2((~mask >>> 0) + 1)}`;
  for (const [key, n, text] of [
    ['start', start, options.range.start],
    ['end', end, options.range.end],
  ] as const) {
    if ((n & mask) >>> 0 !== network)
      fail(
        `dhcp.range.${key} ${text} is outside the server's subnet ${cidr} ` +
          `(server ${options.serverIp}, mask ${options.subnetMask}); expected an address in ${cidr}`,
      );
  }
  if (start === network || end === broadcast)
    fail(
      `dhcp.range ${options.range.start}-${options.range.end} includes the network or ` +
        `broadcast address of ${cidr}; expected host addresses only`,
    );
  if (server >= start && server <= end)
    fail(
      `dhcp.range ${options.range.start}-${options.range.end} contains the server's own ` +
        `address ${options.serverIp}; expected a range that leaves it out`,
    );
  return { start, end, mask, network, broadcast, size: end - start + 1 };
}

/** `10.77.0.0/24` for a network and mask. */
export function cidrOf(network: number, mask: number): string {
  return `${intToIp(network)}/${32 - Math.log2((~mask >>> 0) + 1)}`;
}

/** Two subnets overlap when the wider one contains the other's network. */
export function subnetsOverlap(a: Pick<Pool, 'network' | 'mask'>, b: Pick<Pool, 'network' | 'mask'>): boolean {
  const wider = (a.mask & b.mask) >>> 0;
  return (a.network & wider) >>> 0 === (b.network & wider) >>> 0;
}

export interface RelayPoolShape {
  range: { start: string; end: string };
  subnetMask: string;
  router: string | null;
}

export interface PoolProblem {
  /** Key path under `dhcp`, e.g. ['relayPools', 0, 'range', 'end']. */
  path: Array<string | number>;
  message: string;
}

type Checked = { ok: true; pool: Pool } | { ok: false; problem: PoolProblem };

/**
 * A relay pool stands alone: its subnet is `range.start` under its `subnetMask`
 * (the server has no address there). Pure; used by the configuration schema and at start.
 */
function checkRelayPool(p: RelayPoolShape, i: number): Checked {
  const key = `dhcp.relayPools[${i}]`;
  const fail = (path: Array<string | number>, message: string): Checked => ({
    ok: false,
    problem: { path: ['relayPools', i, ...path], message },
  });
  const start = ipToInt(p.range.start);
  const end = ipToInt(p.range.end);
  const mask = ipToInt(p.subnetMask);
  if (Number.isNaN(mask) || !maskIsContiguous(mask) || mask === 0)
    return fail(
      ['subnetMask'],
      `${key}.subnetMask ${p.subnetMask} is not a netmask; expected one such as 255.255.255.0`,
    );
  if (Number.isNaN(start) || Number.isNaN(end))
    return fail(['range'], `${key}.range needs IPv4 start and end addresses`);
  if (end < start)
    return fail(
      ['range'],
      `${key}.range is empty: start ${p.range.start} is after end ${p.range.end}; expected start <= end`,
    );
  const network = (start & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const cidr = cidrOf(network, mask);
  if ((end & mask) >>> 0 !== network)
    return fail(
      ['range', 'end'],
      `${key}.range.end ${p.range.end} is outside the pool's subnet ${cidr} ` +
        `(range.start ${p.range.start}, subnetMask ${p.subnetMask}); expected an address in ${cidr}`,
    );
  if (start === network || end === broadcast)
    return fail(
      ['range'],
      `${key}.range ${p.range.start}-${p.range.end} includes the network or ` +
        `broadcast address of ${cidr}; expected host addresses only`,
    );
  if (p.router !== null) {
    const router = ipToInt(p.router);
    if (Number.isNaN(router) || (router & mask) >>> 0 !== network)
      return fail(
        ['router'],
        `${key}.router ${p.router} is outside the pool's subnet ${cidr}; ` +
          `expected the relayed network's gateway, in ${cidr}`,
      );
    if (router >= start && router <= end)
      return fail(
        ['router'],
        `${key}.router ${p.router} lies ` +
          `inside ${key}.range ${p.range.start}-${p.range.end}; expected a range ` +
          `that leaves it out`,
      );
  }
  return { ok: true, pool: { start, end, mask, network, broadcast, size: end - start + 1 } };
}

/**
 * Every problem with `dhcp.relayPools`, each with its key path: a pool must be a
 * non-empty range of host addresses inside its own subnet, with its router in that
 * subnet, and no two pools (nor a relay pool and the local one) may share a subnet,
 * since a relayed request is matched to its pool by the relay's address.
 */
export function relayPoolProblems(
  local: { range: { start: string; end: string }; subnetMask: string },
  relayPools: readonly RelayPoolShape[],
): PoolProblem[] {
  const problems: PoolProblem[] = [];
  const localMask = ipToInt(local.subnetMask);
  const localStart = ipToInt(local.range.start);
  const localEnd = ipToInt(local.range.end);
  const localNet =
    !Number.isNaN(localMask) && maskIsContiguous(localMask) && localMask !== 0 && !Number.isNaN(localStart)
      ? { network: (localStart & localMask) >>> 0, mask: localMask }
      : null;
  const good: Array<{ i: number; pool: Pool; shape: RelayPoolShape }> = [];
  relayPools.forEach((shape, i) => {
    const c = checkRelayPool(shape, i);
    if (!c.ok) {
      problems.push(c.problem);
      return;
    }
    const key = `dhcp.relayPools[${i}]`;
    const cidr = cidrOf(c.pool.network, c.pool.mask);
    if (!Number.isNaN(localStart) && !Number.isNaN(localEnd) && c.pool.start <= localEnd && localStart <= c.pool.end) {
      problems.push({
        path: ['relayPools', i, 'range'],
        message:
          `${key}.range ${shape.range.start}-${shape.range.end} overlaps ` +
          `dhcp.range ${local.range.start}-${local.range.end}; expected pools that share no ` +
          `address`,
      });
      return;
    }
    if (localNet && subnetsOverlap(c.pool, localNet)) {
      problems.push({
        path: ['relayPools', i, 'range'],
        message:
          `${key} subnet ${cidr} overlaps the local subnet ${cidrOf(localNet.network, localNet.mask)} of ` +
          `dhcp.range; expected a relayed network of its own (the pool is chosen by the relay's address)`,
      });
      return;
    }
    for (const other of good) {
      const otherKey = `dhcp.relayPools[${other.i}]`;
      if (c.pool.start <= other.pool.end && other.pool.start <= c.pool.end) {
        problems.push({
          path: ['relayPools', i, 'range'],
          message:
            `${key}.range ${shape.range.start}-${shape.range.end} ` +
            `overlaps ${otherKey}.range ${other.shape.range.start}-${other.shape.range.end}; expected pools ` +
            `that share no address`,
        });
        return;
      }
      if (subnetsOverlap(c.pool, other.pool)) {
        problems.push({
          path: ['relayPools', i, 'range'],
          message:
            `${key} subnet ${cidr} overlaps ${otherKey} subnet ${cidrOf(other.pool.network, other.pool.mask)}; ` +
            `expected one pool per relayed network (the pool is chosen by the relay's address)`,
        });
        return;
      }
    }
    good.push({ i, pool: c.pool, shape });
  });
  return problems;
}

/**
 * `dhcp.relayPools[i]` as a Pool; throws DHCP_RANGE_INVALID (the schema checks the same, so this guards other callers).
 */
export function makeRelayPool(shape: RelayPoolShape, i: number, serverIp: string): Pool {
  const c = checkRelayPool(shape, i);
  if (!c.ok)
    throw new KindlingError('DHCP_RANGE_INVALID', c.problem.message, {
      relayPool: i,
      range: shape.range,
      subnetMask: shape.subnetMask,
    });
  if (inSubnet(serverIp, c.pool)) {
    const cidr = cidrOf(c.pool.network, c.pool.mask);
    throw new KindlingError(
      'DHCP_RANGE_INVALID',
      `dhcp.relayPools[${i}] subnet ${cidr} contains the server's own address ${serverIp}; expected ` +
        `a relayed network (the server's own subnet is served by dhcp.range)`,
      { relayPool: i, range: shape.range, subnetMask: shape.subnetMask, serverIp },
    );
  }
  return c.pool;
}
