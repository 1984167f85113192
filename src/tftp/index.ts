// Entry point the main wiring calls. Everything else in tftp/ is internal.
import type { Logger } from 'pino';
import type { KindlingConfig } from '../config/schema.js';
import { TftpServerCore, type TftpServerDeps, type TftpStats } from './server.js';

export type { TftpStats } from './server.js';
export type { RetransmitPolicy } from './retransmit.js';

export interface TftpServer {
  address(): { address: string; port: number };
  stats(): TftpStats;
  /** Stops accepting, ends every transfer and releases every socket, file and timer. */
  close(): Promise<void>;
}

export interface StartTftpServerOptions extends Omit<TftpServerDeps, 'settings' | 'logger'> {
  config: KindlingConfig['tftp'];
  logger: Logger;
}

export async function startTftpServer(options: StartTftpServerOptions): Promise<TftpServer> {
  const { config, logger, ...rest } = options;
  const core = await TftpServerCore.start({
    ...rest,
    settings: {
      listen: config.listen,
      port: config.port,
      roots: config.roots,
      extraRoot: config.extraRoot,
      maxBlksize: config.maxBlksize,
      maxTransfers: config.maxTransfers,
      maxPerClient: config.maxPerClient,
      maxTimeoutSeconds: config.maxTimeoutSeconds,
      maxTransferSeconds: config.maxTransferSeconds,
    },
    logger: logger.child({ component: 'tftp' }),
  });
  return {
    address: () => core.address(),
    stats: () => core.stats(),
    close: () => core.close(),
  };
}
