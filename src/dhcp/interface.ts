// The interface DHCP serves. Linux hands a limited broadcast (255.255.255.255) to every
// socket bound to 0.0.0.0, whatever link it came in on, so without a device binding a
// DISCOVER from the office Wi-Fi reaches the rack's DHCP server and is answered there.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { KindlingError } from '../errors.js';

/** Every network interface of this namespace, up or down, with an address or not. */
export function listInterfaces(): string[] {
  // os.networkInterfaces() leaves out interfaces without an address; sysfs does not, but
  // shows another namespace's when entered without remounting /sys (nsenter --net).
  const names = new Set(Object.keys(os.networkInterfaces()));
  try {
    readdirSync('/sys/class/net').forEach((n) => names.add(n));
  } catch {
    /* no sysfs: addresses are all we know */
  }
  return [...names].sort();
}

/** Throws DHCP_INTERFACE_UNKNOWN naming `dhcp.interface` and the interfaces there are. */
export function requireInterface(name: string, existing: readonly string[] = listInterfaces()): void {
  if (existing.includes(name)) return;
  throw new KindlingError(
    'DHCP_INTERFACE_UNKNOWN',
    `dhcp.interface ${JSON.stringify(name)} is not a network interface of this machine; ` +
      `expected one of: ${existing.join(', ') || '(none found)'}`,
    { interface: name, interfaces: [...existing] },
  );
}

export const UNFILTERED_WARNING =
  'dhcp: dhcp.interface is not set, so DHCP answers broadcasts arriving on every interface ' +
  '(a second NIC or Wi-Fi on another network included); set dhcp.interface to the rack interface';
