// What the DHCP service needs from the inventory, as an interface so the service can be
// tested with a fake and the inventory can be wired in later (src/main.ts).

import type { BootOfferEvent } from '../inventory/machine-record.js';
import type { PxeFacts } from './pxe-policy.js';

export type { BootOfferEvent };

export interface DhcpInventory {
  /** The address machines.yaml reserves for this MAC (lower-case, colon form), or null. */
  reservationFor(mac: string): string | null;
  /** The MAC an address is reserved for, so the pool never gives it to another machine. */
  reservationOwner(ip: string): string | null;
  /** Records a `dhcp-offer` event. Must not throw; called on the packet path. */
  recordBootOffer(event: BootOfferEvent): void;
}

/** The event of one boot offer, from what the client said and what it was given. */
export function bootOffer(
  mac: string,
  facts: PxeFacts,
  bootFile: string,
  ip: string | null,
  mode: BootOfferEvent['mode'],
): BootOfferEvent {
  const { arch, vendorClass } = facts;
  return { mac, arch, vendorClass, userClass: facts.userClasses[0] ?? null, ip, bootFile, mode };
}

/** Records the event; an inventory failure is logged, never allowed to cost the client its reply. */
export function recordSafely(
  inventory: DhcpInventory,
  event: BootOfferEvent,
  logger: { warn(obj: object, msg: string): void },
): void {
  try {
    inventory.recordBootOffer(event);
  } catch (err) {
    logger.warn({ err, mac: event.mac }, 'dhcp: inventory could not record the boot offer');
  }
}
