// The DHCP service on the rack address, as main.ts runs it: started, moved to a new
// address (a renewed lease in proxy mode, src/system/rack-address-watch.ts), or started
// again on a new configuration from the settings page, without restarting Kindling.
// One change at a time; status and close always see the server in use.
import type pino from 'pino';
import { SerialQueue } from '../store/serial-queue.js';
import { describeDhcpReason, type DhcpConfiguredMode, type ServiceStatus } from '../system/service-status.js';
import type { DhcpServer } from './index.js';

export interface RackDhcp {
  /** The server in use; null when DHCP is off or did not start. */
  readonly server: DhcpServer | null;
  /** The address it answers from; null when it is not running. */
  readonly serverIp: string | null;
  status(): ServiceStatus;
  /** Starts again on `next` (same configuration). */
  moveTo(next: string): Promise<void>;
  /** Stops and starts again with the configuration as it is now; a failure shows in status, not as a throw. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface RackDhcpOptions {
  /** dhcp.mode now (read at each start). */
  mode: () => DhcpConfiguredMode;
  /** The rack address now; throws a KindlingError naming the keys when there is none. */
  address: () => string;
  start: (serverIp: string) => Promise<DhcpServer>;
  logger: pino.Logger;
}

export async function startRackDhcp(options: RackDhcpOptions): Promise<RackDhcp> {
  let server: DhcpServer | null = null;
  let serverIp: string | null = null;
  let failure: string | null = null;
  const changes = new SerialQueue();

  const startOn = async (ip: string | null) => {
    failure = null;
    if (options.mode() === 'off') return;
    try {
      const address = ip ?? options.address();
      server = await options.start(address);
      serverIp = address;
    } catch (err) {
      failure = (err as Error).message;
      options.logger.error({ err, service: 'dhcp' }, `dhcp did not start: ${failure}`);
    }
  };
  const stop = async () => {
    const running = server;
    server = null;
    serverIp = null;
    await running?.close();
  };

  await startOn(null);
  return {
    get server() {
      return server;
    },
    get serverIp() {
      return serverIp;
    },
    status: () => {
      if (failure !== null) return { name: 'dhcp', state: 'failed', detail: failure };
      if (!server) return { name: 'dhcp', state: 'off', detail: 'disabled in the configuration' };
      const s = server.status();
      const facts = {
        configuredMode: s.configuredMode,
        mode: s.mode,
        reason: s.reason,
        otherServers: s.otherServers,
        range: s.range,
        leases: s.leases,
      };
      const state =
        s.mode === 'off' ? 'off' : s.otherServers.length > 0 && s.configuredMode === 'full' ? 'degraded' : 'running';
      return {
        name: 'dhcp',
        state,
        detail: `${s.mode} mode: ${describeDhcpReason(facts)}; ${s.leases} leases`,
        listen: `${serverIp}:67`,
        dhcp: facts,
      };
    },
    moveTo: (next) =>
      changes.run(async () => {
        await stop();
        await startOn(next);
      }),
    restart: () =>
      changes.run(async () => {
        await stop();
        await startOn(null);
      }),
    close: () => changes.run(stop),
  };
}
