import os from 'node:os';
import type { KindlingConfig } from '../config/schema.js';
import { KindlingError } from '../errors.js';

/**
 * The IPv4 address Kindling serves the rack from: `server.advertise` when it is an
 * address, else the first IPv4 address of `dhcp.interface` (DHCP must answer from
 * the interface it listens on). Null when neither exists.
 */
export function rackAddress(config: KindlingConfig, interfaces = os.networkInterfaces()): string | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(config.server.advertise)) return config.server.advertise;
  for (const name of [config.dhcp.interface ?? config.server.interface, config.server.interface]) {
    const found = (interfaces[name] ?? []).find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return null;
}

export function requireRackAddress(config: KindlingConfig): string {
  const address = rackAddress(config);
  if (!address) {
    throw new KindlingError(
      'CONFIG_INVALID',
      `dhcp.mode is ${config.dhcp.mode}, but interface ${config.dhcp.interface ?? config.server.interface} has ` +
        `no IPv4 address and server.advertise is "${config.server.advertise}"; give the interface an address, ` +
        `set dhcp.interface, or set server.advertise to this machine's rack address`,
    );
  }
  return address;
}
