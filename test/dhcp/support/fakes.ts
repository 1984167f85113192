// Fakes for handler tests: an inventory with reservations and recorded events, a
// journal that records what it was asked to persist, a settable clock.
import pino from 'pino';
import { createFullModeHandler, type RelayPoolSetup } from '../../../src/dhcp/full-mode.js';
import type { BootOfferEvent, DhcpInventory } from '../../../src/dhcp/inventory.js';
import type { JournalRecord } from '../../../src/dhcp/lease-journal.js';
import { LeaseTable } from '../../../src/dhcp/lease-table.js';
import { createProxyModeHandler } from '../../../src/dhcp/proxy-mode.js';
import { makePool, makeRelayPool, type Pool } from '../../../src/net/ipv4.js';

export const silent = pino({ level: 'silent' });
export const SERVER = '10.77.0.2';

export class FakeInventory implements DhcpInventory {
  readonly events: BootOfferEvent[] = [];
  constructor(readonly reservations: Record<string, string> = {}) {}
  reservationFor(mac: string): string | null {
    return this.reservations[mac] ?? null;
  }
  reservationOwner(ip: string): string | null {
    return Object.entries(this.reservations).find(([, r]) => r === ip)?.[0] ?? null;
  }
  recordBootOffer(event: BootOfferEvent): void {
    this.events.push(event);
    if (this.events.length > 1000) this.events.shift();
  }
}

export interface FakeRelayPool {
  range: { start: string; end: string };
  subnetMask: string;
  router: string | null;
  dns: string[];
  domain?: string | null;
  leaseSeconds?: number;
}

export function fullSetup(
  options: {
    range?: { start: string; end: string };
    reservations?: Record<string, string>;
    maxOffers?: number;
    failJournal?: boolean;
    relayPools?: FakeRelayPool[];
    logger?: pino.Logger;
  } = {},
) {
  let clock = 1_000_000;
  const inventory = new FakeInventory(options.reservations);
  const records: JournalRecord[] = [];
  const pool = makePool({
    range: options.range ?? { start: '10.77.0.100', end: '10.77.0.110' },
    subnetMask: '255.255.255.0',
    serverIp: SERVER,
  });
  const newTable = (p: Pool) =>
    new LeaseTable({
      pool: p,
      serverIp: SERVER,
      offerMs: 60_000,
      maxOffers: options.maxOffers ?? 64,
      declineMs: 600_000,
      reservationFor: (m) => inventory.reservationFor(m),
      reservationOwner: (ip) => inventory.reservationOwner(ip),
    });
  const table = newTable(pool);
  const relayPools: RelayPoolSetup[] = (options.relayPools ?? []).map((r, i) => {
    const p = makeRelayPool(r, i, SERVER);
    return {
      key: `dhcp.relayPools[${i}]`,
      pool: p,
      network: {
        subnetMask: r.subnetMask,
        router: r.router,
        dns: r.dns,
        domain: r.domain === undefined ? 'rack.local' : r.domain,
        leaseSeconds: r.leaseSeconds ?? 3600,
      },
      table: newTable(p),
    };
  });
  const journal = {
    append: async (r: JournalRecord) => {
      if (options.failJournal) throw new Error('disk full');
      records.push(r);
    },
  };
  const handler = createFullModeHandler({
    serverIp: SERVER,
    pool,
    network: {
      subnetMask: '255.255.255.0',
      router: '10.77.0.1',
      dns: ['10.77.0.1', '9.9.9.9'],
      domain: 'rack.local',
      leaseSeconds: 3600,
    },
    policy: { bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi', arm64: null }, httpBaseUrl: `http://${SERVER}` },
    table,
    relayPools,
    journal,
    inventory,
    logger: options.logger ?? silent,
    now: () => clock,
  });
  return {
    handler,
    table,
    relayTables: relayPools.map((r) => r.table),
    inventory,
    records,
    pool,
    advance: (ms: number) => (clock += ms),
    now: () => clock,
  };
}

export function proxySetup() {
  const inventory = new FakeInventory();
  const handler = createProxyModeHandler({
    serverIp: SERVER,
    policy: { bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi', arm64: null }, httpBaseUrl: `http://${SERVER}` },
    inventory,
    logger: silent,
  });
  return { handler, inventory };
}

export const from = { address: '0.0.0.0', port: 68 };
