import { z } from 'zod';
import type { ConfigChange } from '../config/config-file.js';
import { ipToInt } from '../net/ipv4.js';
import { hostAddressRequestSchema, parseHostCidr, type HostAddressStatus } from '../system/host-address-protocol.js';
import {
  mergeNetwork,
  networkChangeSchema,
  networkChanges,
  type InterfaceTable,
  type NetworkSettings,
} from './network.js';

// The Pi's own address as the page changes it: method, address, gateway and DNS of the
// rack interface, plus the DHCP keys that must move with it (a new subnet needs a new
// range). Kindling's own keys that named the old address follow it to the new one
// (server.advertise, dhcp.router, dhcp.dns), so full DHCP keeps pointing nodes at this
// machine. Checked here against the interface as it will be; applied by the root-side
// helper (src/system/host-address-helper.ts).

const shape = hostAddressRequestSchema.shape;
export const hostAddressChangeSchema = z.strictObject({
  method: shape.method,
  address: shape.address.optional(),
  gateway: shape.gateway.optional(),
  dns: shape.dns.optional(),
  confirmSeconds: shape.confirmSeconds.optional(),
  /** DHCP keys to change with the address, as in PUT /api/settings/network. */
  dhcp: networkChangeSchema.shape.dhcp,
});
export type HostAddressChange = z.infer<typeof hostAddressChangeSchema>;

export const defaultConfirmSeconds = 120;

/** What GET /api/settings/host-address answers. */
export interface HostAddressView {
  /** False off the appliance: nothing here may change the OS network. */
  managed: boolean;
  interface: string;
  /** The rack interface's IPv4 addresses now, as 10.77.0.1/24. */
  addresses: string[];
  /** The helper's last report, if any. */
  status: HostAddressStatus | null;
  /** Set while a request waits for the helper or for its confirmation. */
  pending: { id: string; address: string | null; method: 'static' | 'dhcp'; since: string } | null;
}

/** What PUT answers (202): the request is with the helper; confirm it from `confirmUrl`. */
export interface HostAddressRequested extends HostAddressView {
  confirmUrl: string;
  /** kindling.yaml keys written once confirmed. */
  changed: string[];
}

/** What the confirmation answers; `restarting`: kindling.service restarts in a moment to read them. */
export interface HostAddressConfirmed extends HostAddressView {
  restarting: boolean;
}

/** `10.77.0.1/24` for each IPv4 address of the interface. */
export function addressesOf(interfaces: InterfaceTable, name: string): string[] {
  return (interfaces[name] ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => `${a.address}/${32 - Math.log2((~ipToInt(a.netmask) >>> 0) + 1)}`);
}

/** The interface table as it will be once `address` (or no address yet, for DHCP) replaces the interface's IPv4. */
export function withAddress(interfaces: InterfaceTable, name: string, address: string | null): InterfaceTable {
  const cidr = address === null ? null : parseHostCidr(address);
  const others = (interfaces[name] ?? []).filter((a) => a.family !== 'IPv4');
  const v4 = cidr ? [{ family: 'IPv4', address: cidr.address, netmask: cidr.netmask, internal: false }] : [];
  return { ...interfaces, [name]: [...v4, ...others] };
}

/**
 * The network settings once the address moves from `oldIp` to `newIp` (null: from the
 * site's DHCP, unknown yet): the change's DHCP keys, and every key that named the old
 * address now naming the new one.
 */
export function followAddress(
  current: NetworkSettings,
  change: HostAddressChange,
  oldIp: string | null,
  newIp: string | null,
): NetworkSettings {
  const next = mergeNetwork(current, { dhcp: change.dhcp });
  if (oldIp === null) return next;
  const moved = (value: string) => (value === oldIp ? newIp : value);
  const advertise = next.server.advertise === oldIp ? (newIp ?? 'auto') : next.server.advertise;
  return {
    server: { ...next.server, advertise },
    dhcp: {
      ...next.dhcp,
      router:
        change.dhcp?.router !== undefined || next.dhcp.router === null ? next.dhcp.router : moved(next.dhcp.router),
      dns:
        change.dhcp?.dns !== undefined
          ? next.dhcp.dns
          : next.dhcp.dns.map(moved).filter((d): d is string => d !== null),
    },
  };
}

/** The kindling.yaml keys to write at confirmation, and the ones that put them back. */
export function configChangesFor(
  current: NetworkSettings,
  next: NetworkSettings,
): { changes: ConfigChange[]; undo: ConfigChange[] } {
  return { changes: networkChanges(current, next), undo: networkChanges(next, current) };
}
