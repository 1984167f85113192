// Runs Kindling's DHCP service as a child process inside a test namespace (Node's
// dgram cannot bind to a device or switch namespace). Reads its options as JSON from
// argv[2], prints one line `READY <status JSON>` once serving, `STATUS <json>` on
// SIGUSR2, and closes cleanly on SIGTERM. Boot-offer events go to stdout as `EVENT`.
import pino from 'pino';
import { startDhcpServer, type DhcpInventory } from '../../../src/dhcp/index.js';
import { configSchema } from '../../../src/config/schema.js';

const input = JSON.parse(process.argv[2] ?? '{}') as {
  dhcp: unknown;
  serverIp: string;
  dataDir: string;
  reservations?: Record<string, string>;
  probeTimeoutMs?: number;
};
const config = configSchema.parse({ dhcp: input.dhcp }).dhcp;
const reservations = input.reservations ?? {};
const inventory: DhcpInventory = {
  reservationFor: (mac) => reservations[mac] ?? null,
  reservationOwner: (ip) => Object.entries(reservations).find(([, r]) => r === ip)?.[0] ?? null,
  recordBootOffer: (event) => process.stdout.write(`EVENT ${JSON.stringify(event)}\n`),
};
const logger = pino({ level: process.env.KINDLING_LOG ?? 'warn' }, pino.destination(2));

try {
  const server = await startDhcpServer({
    config,
    serverIp: input.serverIp,
    httpBaseUrl: `http://${input.serverIp}:8080`,
    dataDir: input.dataDir,
    logger,
    inventory,
    probeTimeoutMs: input.probeTimeoutMs ?? 1500,
  });
  process.stdout.write(`READY ${JSON.stringify(server.status())}\n`);
  process.on('SIGUSR2', () => process.stdout.write(`STATUS ${JSON.stringify(server.status())}\n`));
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
} catch (err) {
  process.stdout.write(
    `FAILED ${JSON.stringify({ message: (err as Error).message, code: (err as { code?: string }).code ?? null })}\n`,
  );
  process.exit(1);
}
