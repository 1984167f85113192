// Kindling's TFTP server alone in a process, for bench/tftp.ts to measure its CPU and RSS.
// Settings as JSON in argv[2]; prints "PORT n" when listening; SIGTERM stops it.
import pino from 'pino';
import { startTftpServer } from '../src/tftp/index.js';

// "transferThreads" is a server option, not a config key; the rest are config keys.
const { transferThreads, ...config } = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const server = await startTftpServer({
  config: {
    enabled: true,
    listen: '127.0.0.1',
    port: 0,
    roots: [],
    extraRoot: null,
    maxBlksize: 1468,
    maxTransfers: 256,
    maxPerClient: 64,
    maxTimeoutSeconds: 10,
    maxTransferSeconds: 600,
    ...config,
  },
  ...(typeof transferThreads === 'number' ? { transferThreads } : {}),
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
process.stdout.write(`PORT ${server.address().port}\n`);
process.on('SIGTERM', () => {
  process.stderr.write(`STATS ${JSON.stringify(server.stats())}\n`);
  void server.close().then(() => process.exit(0));
});
