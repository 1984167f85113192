import { z } from 'zod';
import { relayPoolProblems } from '../net/ipv4.js';

// The configuration contract (docs/configuration.md, "kindling.yaml"). Every key is
// optional; the defaults here are the appliance's (root, port 80, /var/lib/kindling).
// `checkoutDefaults` in defaults.ts overlays what suits a developer's checkout.

const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const ipv4 = z.string().regex(ipv4Pattern, 'expected an IPv4 address such as 10.77.0.1');
const port = z.number().int().min(0).max(65535);

const server = z.strictObject({
  /** Address nodes use to reach Kindling; `auto` uses the address a request arrived on. */
  advertise: z
    .union([
      z.literal('auto'),
      ipv4,
      z.string().regex(/^[a-z0-9.-]+$/i, 'expected auto, an IPv4 address or a host name'),
    ])
    .default('auto'),
  interface: z.string().min(1).default('eth0'),
  /**
   * This machine's own address from the page: only on the appliance, where a root-side
   * helper applies it (docs/appliance.md, "The Pi's own address").
   */
  hostAddress: z
    .strictObject({
      manage: z.boolean().default(false),
      /** Where the helper reports; its own runtime directory. */
      statusFile: z.string().min(1).default('/run/kindling-host-address/status.json'),
    })
    .prefault({}),
});

const http = z.strictObject({
  listen: z.string().min(1).default('0.0.0.0'),
  port: port.default(80),
  /** The setup page and admin API over HTTPS (self-signed); boot routes stay on `port`. */
  httpsPort: port.default(443),
});

const tftp = z.strictObject({
  enabled: z.boolean().default(true),
  listen: z.string().min(1).default('0.0.0.0'),
  port: port.default(69),
  roots: z.array(z.string().min(1)).default(['/usr/lib/ipxe']),
  extraRoot: z.string().min(1).nullable().default(null),
  // 1468 fills one Ethernet frame (1500 - 20 IP - 8 UDP - 4 TFTP); EDK2 asks for exactly this.
  maxBlksize: z.number().int().min(512).max(65464).default(1468),
  maxTransfers: z.number().int().min(1).max(10_000).default(256),
  maxPerClient: z.number().int().min(1).max(64).default(4),
  // A client's RFC 2349 timeout above this is not granted: honouring 255 s let one unanswered
  // RRQ hold a slot for 7 x 255 s (docs/tftp.md). Clients that send it ask for 1-5 s.
  maxTimeoutSeconds: z.number().int().min(1).max(255).default(10),
  // A transfer still running after this ends with an error: ipxe.efi takes well under a
  // second, and a slow ACKer cannot hold a slot for longer than this.
  maxTransferSeconds: z.number().int().min(1).max(86_400).default(600),
});

/** A pool for a network behind a DHCP relay; chosen by the relay's address (giaddr). */
const relayPool = z.strictObject({
  range: z.strictObject({ start: ipv4, end: ipv4 }),
  subnetMask: ipv4,
  router: ipv4.nullable(),
  dns: z.array(ipv4),
  /** Unset: `dhcp.domain`. */
  domain: z.string().nullable().optional(),
  /** Unset: `dhcp.leaseSeconds`. */
  leaseSeconds: z.number().int().min(60).max(31_536_000).optional(),
});

const dhcp = z
  .strictObject({
    mode: z.enum(['off', 'proxy', 'full', 'auto']).default('auto'),
    /** The only interface DHCP answers on; null (unset): every interface, with a warning at start. */
    interface: z
      .string()
      .regex(
        /^[^/\s:]{1,15}$/,
        'expected a network interface name such as eth0 (at most 15 characters, no "/", ":" or spaces)',
      )
      .nullable()
      .default(null),
    range: z.strictObject({ start: ipv4.default('10.77.0.100'), end: ipv4.default('10.77.0.250') }).prefault({}),
    subnetMask: ipv4.default('255.255.255.0'),
    router: ipv4.nullable().default('10.77.0.1'),
    dns: z.array(ipv4).default(['10.77.0.1']),
    domain: z.string().nullable().default('rack.local'),
    leaseSeconds: z.number().int().min(60).max(31_536_000).default(86_400),
    bootFiles: z
      .strictObject({
        bios: z.string().min(1).default('undionly.kpxe'),
        // snponly.efi drives the NIC through the firmware's own driver, and returns to the
        // firmware cleanly after `exit 1` (the UEFI local-disk answer); see docs/decisions.md.
        uefi: z.string().min(1).default('snponly.efi'),
        arm64: z.string().min(1).nullable().default(null),
      })
      .prefault({}),
    relayPools: z.array(relayPool).default([]),
  })
  .superRefine((d, ctx) => {
    // Each relay pool inside its own subnet, non-empty, sharing no subnet with another pool.
    for (const p of relayPoolProblems(d, d.relayPools))
      ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

const flatcarSource = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name such as flatcar-stable'),
  os: z.literal('flatcar'),
  channel: z.enum(['stable', 'beta', 'alpha', 'lts']).default('stable'),
  arch: z.enum(['amd64', 'arm64']).default('amd64'),
  baseUrl: z.string().url().nullable().default(null),
  keys: z.string().nullable().default(null),
});

const fcosSource = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name such as fcos-stable'),
  os: z.literal('fcos'),
  stream: z.enum(['stable', 'testing', 'next']).default('stable'),
  arch: z.enum(['x86_64', 'aarch64']).default('x86_64'),
  baseUrl: z.string().url().nullable().default(null),
  keys: z.string().nullable().default(null),
});

export const mirrorSourceSchema = z.discriminatedUnion('os', [flatcarSource, fcosSource]);

const mirror = z.strictObject({
  schedule: z.string().nullable().default('17 3 * * *'),
  keep: z.number().int().min(1).max(50).default(2),
  /** http://HOST:PORT for upstream (CONNECT for https); null uses HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  proxy: z.string().min(1).nullable().default(null),
  /** A PEM CA bundle added to the system CAs, for a TLS-intercepting proxy. */
  caFile: z.string().min(1).nullable().default(null),
  sources: z
    .array(mirrorSourceSchema)
    .default([{ name: 'flatcar-stable', os: 'flatcar', channel: 'stable', arch: 'amd64', baseUrl: null, keys: null }]),
});

/**
 * The unknown-machine name pattern, such as node-{{n}}: it becomes a hostname, so one
 * DNS label (RFC 1123 §2.1) with room for the number. Checked with a length cap and a
 * character class plus `includes`, never a regex with two unbounded runs around
 * {{n}}: that backtracks quadratically on a long run of braces.
 */
export const machineNamePattern = z
  .string()
  .max(56, 'expected a name pattern of at most 56 characters, such as node-{{n}}')
  .regex(/^[a-z0-9{}-]+$/, 'expected a name pattern of a-z, 0-9, - and {{n}}, such as node-{{n}}')
  .refine((s) => s.includes('{{n}}'), 'expected a name pattern containing {{n}}, such as node-{{n}}');

const unknownMachines = z.union([
  z.literal('wait'),
  z.strictObject({
    profile: z.string().min(1),
    name: machineNamePattern.default('node-{{n}}'),
  }),
]);

export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('/var/lib/kindling'),
  server: server.prefault({}),
  http: http.prefault({}),
  tftp: tftp.prefault({}),
  dhcp: dhcp.prefault({}),
  mirror: mirror.prefault({}),
  machines: z
    .strictObject({
      unknown: unknownMachines.default('wait'),
      /** Undeclared machines recorded at most; beyond it an unknown MAC is answered but not recorded. */
      maxDiscovered: z.number().int().min(0).max(100_000).default(1024),
      /** New undeclared machines recorded per source address (or DHCP as one source) per minute. */
      discoveryPerMinute: z.number().int().min(1).max(100_000).default(20),
    })
    .prefault({}),
  boot: z
    .strictObject({
      /** Seconds an unassigned machine waits before asking again. */
      retrySeconds: z.number().int().min(1).max(3600).default(30),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .prefault({}),
});

export type KindlingConfig = z.infer<typeof configSchema>;
export type MirrorSource = z.infer<typeof mirrorSourceSchema>;
export type UnknownMachineRule = KindlingConfig['machines']['unknown'];
