import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { startKindling } from '../main.js';
import { createLogger } from '../system/index.js';
import { configFileFrom } from './target.js';

/** `kindling serve`: runs until SIGTERM or SIGINT; SIGHUP reloads profiles and machines.yaml. */
export async function serveCommand(configFlag: string | undefined): Promise<void> {
  const loaded = loadConfig(configFileFrom(configFlag));
  const logger = createLogger(loaded.config.log.level);
  const kindling = await startKindling({ config: loaded.config, configFile: loaded.file, logger });
  process.stdout.write(
    `\nKindling is running.\n  Boot script:   ${kindling.httpUrl}/boot.ipxe\n  Health:       ` +
      ` ${kindling.httpUrl}/healthz\n  Setup page:    ${kindling.httpsUrl}/ (self-signed; ` +
      `SHA-256 ${kindling.tlsFingerprint})\n  Admin API:     ${kindling.httpUrl}/api/machines (token ` +
      `in ${path.join(loaded.config.dataDir, 'state', 'admin-token')}; HTTPS from other hosts)\n  Profiles:   ` +
      `   ${path.join(loaded.config.dataDir, 'config', 'profiles')}\n  Stop with Ctrl-C.\n\n`,
  );
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    kindling.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading profiles and machines.yaml');
    kindling.declarations.reload();
  });
}
