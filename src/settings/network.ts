import { z } from 'zod';
import type { ConfigChange } from '../config/config-file.js';
import type { KindlingConfig } from '../config/schema.js';
import { cidrOf, intToIp, ipToInt } from '../net/ipv4.js';
import type { DhcpConfiguredMode, OtherDhcpServer, ServiceStatus } from '../system/service-status.js';

// The network as the Settings page and the wizard edit it: the DHCP keys of
// kindling.yaml and server.advertise. Checked here, before anything is written, against
// the interfaces this machine has: every problem names the key, the value and what
// was expected, so the page can show it next to the field.

const text = z.string().max(253);
export const networkChangeSchema = z.strictObject({
  dhcp: z
    .strictObject({
      mode: z.enum(['off', 'proxy', 'full', 'auto']).optional(),
      interface: text.nullable().optional(),
      range: z.strictObject({ start: text, end: text }).optional(),
      subnetMask: text.optional(),
      router: text.nullable().optional(),
      dns: z.array(text).max(8).optional(),
      domain: text.nullable().optional(),
    })
    .optional(),
  server: z.strictObject({ advertise: text.optional() }).optional(),
  /** Switch to full mode although another DHCP server answered the probe. */
  force: z.boolean().optional(),
});
export type NetworkChange = z.infer<typeof networkChangeSchema>;

export interface NetworkSettings {
  dhcp: {
    mode: KindlingConfig['dhcp']['mode'];
    interface: string | null;
    range: { start: string; end: string };
    subnetMask: string;
    router: string | null;
    dns: string[];
    domain: string | null;
  };
  server: { advertise: string };
}

export interface NetworkProblem {
  /** The kindling.yaml key, such as dhcp.range.start. */
  key: string;
  value: unknown;
  expected: string;
  message: string;
}

/** An interface as os.networkInterfaces() gives it (only what the checks read). */
export interface InterfaceAddress {
  family: string;
  address: string;
  netmask: string;
  internal: boolean;
}
export type InterfaceTable = Record<string, InterfaceAddress[] | undefined>;

/** What GET /api/settings/network answers. */
export interface NetworkSettingsView {
  settings: NetworkSettings;
  /** kindling.yaml, which saving edits; null when Kindling runs on embedded defaults and cannot save. */
  configFile: string | null;
  /** The interface the rack is served on (dhcp.interface, else server.interface). */
  rackInterface: string;
  interfaces: Array<{ name: string; addresses: string[] }>;
  dhcp: ServiceStatus | null;
}

/** What PUT /api/settings/network answers once the change is written and applied. */
export interface NetworkSaved extends NetworkSettingsView {
  /** Keys written to kindling.yaml. */
  changed: string[];
  /** What takes effect only at the next start of Kindling, in words; empty when everything applied now. */
  restartNeeded: string[];
}

/** Refusal details of DHCP_OTHER_SERVER. */
export interface OtherServerRefusal {
  servers: OtherDhcpServer[];
  interface: string | null;
}

/** The page's side of the network: saving, probing, applying (src/main.ts wires it). */
export interface NetworkControl {
  configFile: string | null;
  interfaces(): InterfaceTable;
  /** Another DHCP server answering from `serverIp` on `device`, or null. */
  probe(serverIp: string, device: string | null): Promise<OtherDhcpServer | null>;
  /** Writes the changes to kindling.yaml and starts DHCP again on the new configuration. */
  save(changes: readonly ConfigChange[]): Promise<void>;
}

export function networkSettingsOf(config: KindlingConfig): NetworkSettings {
  const d = config.dhcp;
  return {
    dhcp: {
      mode: d.mode,
      interface: d.interface,
      range: { ...d.range },
      subnetMask: d.subnetMask,
      router: d.router,
      dns: [...d.dns],
      domain: d.domain,
    },
    server: { advertise: config.server.advertise },
  };
}

export function mergeNetwork(current: NetworkSettings, change: NetworkChange): NetworkSettings {
  return {
    dhcp: { ...current.dhcp, ...stripUndefined(change.dhcp ?? {}) },
    server: { ...current.server, ...stripUndefined(change.server ?? {}) },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The kindling.yaml keys that differ between `current` and `next`. */
export function networkChanges(current: NetworkSettings, next: NetworkSettings): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const key of Object.keys(next.dhcp) as Array<keyof NetworkSettings['dhcp']>) {
    if (key === 'range') continue;
    if (JSON.stringify(next.dhcp[key]) !== JSON.stringify(current.dhcp[key]))
      changes.push({ path: ['dhcp', key], value: next.dhcp[key] });
  }
  // Each end on its own, so a comment on either line of kindling.yaml stays.
  for (const end of ['start', 'end'] as const) {
    if (next.dhcp.range[end] !== current.dhcp.range[end])
      changes.push({ path: ['dhcp', 'range', end], value: next.dhcp.range[end] });
  }
  if (next.server.advertise !== current.server.advertise)
    changes.push({ path: ['server', 'advertise'], value: next.server.advertise });
  return changes;
}

export function rackInterfaceOf(settings: NetworkSettings, serverInterface: string): string {
  return settings.dhcp.interface ?? serverInterface;
}

/** The address DHCP answers from: server.advertise when it is an address, else the interface's first IPv4 address. */
export function serverAddressOf(
  settings: NetworkSettings,
  rackInterface: string,
  interfaces: InterfaceTable,
): string | null {
  if (!Number.isNaN(ipToInt(settings.server.advertise))) return settings.server.advertise;
  return (interfaces[rackInterface] ?? []).find((a) => a.family === 'IPv4')?.address ?? null;
}

const EXPECT_IP = 'an IPv4 address such as 10.77.0.1';
const hostName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function isMask(n: number): boolean {
  const inverted = ~n >>> 0;
  return !Number.isNaN(n) && n !== 0 && ((inverted + 1) & inverted) === 0;
}

/** Every problem with `next` on this machine; empty when it may be saved. */
export function networkProblems(
  next: NetworkSettings,
  serverInterface: string,
  interfaces: InterfaceTable,
): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  const add = (key: string, value: unknown, expected: string, what: string) =>
    problems.push({ key, value, expected, message: `${key} ${JSON.stringify(value)} ${what}; expected ${expected}` });
  const d = next.dhcp;
  const ip = (key: string, value: string) => {
    const n = ipToInt(value);
    if (Number.isNaN(n)) add(key, value, EXPECT_IP, 'is not an IPv4 address');
    return n;
  };

  const names = Object.keys(interfaces).sort();
  if (d.interface !== null && !/^[^/\s:]{1,15}$/.test(d.interface))
    add('dhcp.interface', d.interface, 'a network interface name such as eth0', 'is not an interface name');
  else if (d.interface !== null && !interfaces[d.interface])
    add(
      'dhcp.interface',
      d.interface,
      `one of this machine's interfaces: ${names.join(', ')}`,
      'is not an interface of this machine',
    );

  const advertise = next.server.advertise;
  if (
    advertise !== 'auto' &&
    Number.isNaN(ipToInt(advertise)) &&
    (/^[\d.]+$/.test(advertise) || !hostName.test(advertise))
  ) {
    add('server.advertise', advertise, 'auto, an IPv4 address or a host name', 'is neither an address nor a host name');
  }
  const start = ip('dhcp.range.start', d.range.start);
  const end = ip('dhcp.range.end', d.range.end);
  const mask = ipToInt(d.subnetMask);
  if (!isMask(mask)) add('dhcp.subnetMask', d.subnetMask, 'a netmask such as 255.255.255.0', 'is not a netmask');
  const router = d.router === null ? null : ip('dhcp.router', d.router);
  d.dns.forEach((s, i) => ip(`dhcp.dns[${i}]`, s));
  if (d.domain !== null && d.domain !== '' && !hostName.test(d.domain))
    add('dhcp.domain', d.domain, 'a DNS domain such as rack.local', 'is not a domain name');
  if (!Number.isNaN(start) && !Number.isNaN(end) && start > end)
    add(
      'dhcp.range',
      `${d.range.start}-${d.range.end}`,
      'start <= end',
      `is empty: start ${d.range.start} is after end ${d.range.end}`,
    );
  if (problems.length > 0) return problems;

  const rackInterface = rackInterfaceOf(next, serverInterface);
  const server = serverAddressOf(next, rackInterface, interfaces);
  if (server === null) {
    // With DHCP off nothing needs the address yet; the keys are kept for later.
    if (d.mode !== 'off')
      add(
        'dhcp.interface',
        rackInterface,
        "an interface with an IPv4 address, or server.advertise set to this machine's rack address",
        'has no IPv4 address',
      );
    return problems;
  }
  const network = (ipToInt(server) & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const cidr = cidrOf(network, mask);
  const inside = (n: number) => (n & mask) >>> 0 === network;
  const where = `the subnet of ${rackInterface} (${server}, mask ${d.subnetMask})`;
  if (!inside(start)) add('dhcp.range.start', d.range.start, `an address in ${cidr}`, `is outside ${where}`);
  if (!inside(end)) add('dhcp.range.end', d.range.end, `an address in ${cidr}`, `is outside ${where}`);
  if (problems.length === 0) {
    if (start === network || end === broadcast)
      add(
        'dhcp.range',
        `${d.range.start}-${d.range.end}`,
        `host addresses of ${cidr} only`,
        `includes the network or broadcast address ${start === network ? intToIp(network) : intToIp(broadcast)}`,
      );
    const s = ipToInt(server);
    if (s >= start && s <= end)
      add(
        'dhcp.range',
        `${d.range.start}-${d.range.end}`,
        `a range that leaves out the server's own address ${server}`,
        'contains the server',
      );
  }
  const rangeOk = problems.length === 0;
  if (router !== null && d.router !== null) {
    if (!inside(router)) add('dhcp.router', d.router, `the gateway of ${cidr}`, `is outside ${where}`);
    else if (rangeOk && router >= start && router <= end)
      add(
        'dhcp.router',
        d.router,
        `an address outside dhcp.range ${d.range.start}-${d.range.end}`,
        'lies inside the range Kindling hands out',
      );
  }
  return problems;
}

/** What the wizard recommends, from the DHCP service's facts. */
export interface Recommendation {
  mode: 'proxy' | 'full' | 'unknown';
  reason: 'other-server-seen' | 'no-other-server' | 'not-probed' | 'failed';
  otherServers: OtherDhcpServer[];
  /** For a person to read. */
  why: string;
}

/** Proxy or full DHCP, and why, from the DHCP service's typed facts (never its prose). */
export function recommend(configured: DhcpConfiguredMode, service: ServiceStatus | null): Recommendation {
  const facts = service?.dhcp;
  if (facts?.reason === 'other-server-seen' || (facts && facts.otherServers.length > 0)) {
    const at = facts.otherServers.map((o) => o.server).join(', ');
    return {
      mode: 'proxy',
      reason: 'other-server-seen',
      otherServers: facts.otherServers,
      why:
        `another DHCP server answers on this network (${at}), so Kindling should only ` +
        `answer PXE clients (proxy mode) and leave addresses to it`,
    };
  }
  if (facts?.reason === 'no-other-server') {
    return {
      mode: 'full',
      reason: 'no-other-server',
      otherServers: [],
      why: 'no other DHCP server answered, so Kindling hands out addresses itself (full mode)',
    };
  }
  if (facts?.reason === 'configured-proxy') {
    return {
      mode: 'unknown',
      reason: 'not-probed',
      otherServers: [],
      why:
        'dhcp.mode is proxy, so Kindling has not probed the network; choose auto to let it ' +
        'decide (proxy if another server answers, full otherwise)',
    };
  }
  if (service?.state === 'failed')
    return {
      mode: 'unknown',
      reason: 'failed',
      otherServers: [],
      why: `the DHCP service did not start: ${service.detail}`,
    };
  return {
    mode: 'unknown',
    reason: 'not-probed',
    otherServers: [],
    why:
      `DHCP is ${configured === 'off' ? 'off' : 'not running'}, so Kindling has not probed the network; ` +
      `choose auto to let it decide (proxy if another server answers, full otherwise)`,
  };
}
