import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { KindlingConfig } from '../config/schema.js';
import type { BootService } from '../inventory/boot-service.js';
import type { Declarations } from '../inventory/declarations.js';
import type { Inventory } from '../inventory/inventory.js';
import type { Mirror } from '../mirror/mirror.js';
import type { HostAddressControl } from '../settings/host-address-control.js';
import type { NetworkControl } from '../settings/network.js';
import type { SettingsStore } from '../settings/settings.js';
import type { ServiceStatus } from '../system/service-status.js';
import type { UpdateService } from '../updates/service.js';
import type { AdminAuth } from './admin-auth.js';
import type { TlsEndpoint } from './https.js';

export type { ServiceStatus } from '../system/service-status.js';

/**
 * Everything the HTTP routes need, passed in so that tests can build an app without a
 * server. Each is required: a route is never skipped because a dependency was left out.
 */
export interface HttpDeps {
  config: KindlingConfig;
  inventory: Inventory;
  /** What a machine boots and which config it gets (src/inventory/boot-service.ts). */
  boot: BootService;
  declarations: Declarations;
  logger: Logger;
  /** Bearer token for the admin API (dataDir/state/admin-token). */
  adminToken: string;
  /** Other services' status for /healthz, asked at request time. */
  services: () => ServiceStatus[];
  version: string;
  /** Omaha answers for installed Flatcar nodes (POST /v1/update/); null without a mirror. */
  updates: UpdateService | null;
  /** The setup page's password and sessions. */
  auth: AdminAuth;
  /** What the wizard saved (DATADIR/state/settings.json). */
  settings: SettingsStore;
  /**
   * The image mirror: /mirror/* for nodes, /api/mirror for the admin; null when it did
   * not start (/healthz says why).
   */
  mirror: Mirror | null;
  /** The HTTPS side: the page and /api/ go there from other hosts (src/http/https.ts). */
  tls: TlsEndpoint;
  /** The address Kindling's DHCP leased to a MAC (full mode; null otherwise); config fetches are bound to it. */
  leasedAddress: (mac: string) => string | null;
  /** Changes the network from the page: kindling.yaml, the probe, DHCP started again. */
  network: NetworkControl;
  /** The machine's own address from the page, through the root-side helper (appliance only). */
  hostAddress: HostAddressControl;
  /** The built page (default: webui/dist of this checkout); null serves no page. */
  webuiDir?: string | null;
}

const hostPattern = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The base URL a node should use to reach Kindling. With `advertise: auto` it is the
 * address the node itself used (its Host header), which is right by construction on
 * a multi-homed box; a malformed Host falls back to the socket's local address.
 */
export function serverUrlFor(request: FastifyRequest, config: KindlingConfig): string {
  const port = config.http.port;
  if (config.server.advertise !== 'auto') return `http://${config.server.advertise}${port === 80 ? '' : `:${port}`}`;
  const host = request.headers.host;
  if (host && hostPattern.test(host)) return `http://${host}`;
  const local = request.socket.localAddress ?? '127.0.0.1';
  const address = local.includes(':') && !local.startsWith('::ffff:') ? `[${local}]` : local.replace(/^::ffff:/, '');
  return `http://${address}${port === 80 ? '' : `:${port}`}`;
}

/** The client's IPv4 address without the IPv6-mapped prefix. */
export function clientIp(request: FastifyRequest): string {
  return request.ip.replace(/^::ffff:/, '');
}
