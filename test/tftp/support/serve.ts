// Runs a Kindling TFTP server as its own process, for tests that need it inside a
// network namespace (a Node process cannot switch namespace). Settings come as JSON in
// argv[2]; prints "PORT n" once listening and stops on SIGTERM.
import pino from 'pino';
import { startTftpServer } from '../../../src/tftp/index.js';

const input = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const server = await startTftpServer({
  config: {
    enabled: true,
    listen: '127.0.0.1',
    port: 0,
    roots: [],
    extraRoot: null,
    maxBlksize: 1468,
    maxTransfers: 256,
    maxPerClient: 4,
    maxTimeoutSeconds: 10,
    maxTransferSeconds: 600,
    ...(input.config as object),
  },
  logger: pino({ level: (input.logLevel as string) ?? 'warn' }, pino.destination(2)),
  ...(input.retransmit
    ? { retransmit: input.retransmit as { initialMs: number; maxMs: number; retries: number } }
    : {}),
});
process.stdout.write(`PORT ${server.address().port}\n`);
const stop = async (): Promise<void> => {
  process.stderr.write(`STATS ${JSON.stringify(server.stats())}\n`);
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
