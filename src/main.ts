import { chmodSync, mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { KindlingConfig } from './config/schema.js';
import { writeConfigKeys } from './config/config-file.js';
import { KindlingError } from './errors.js';
import { buildHttpApp } from './http/index.js';
import { AdminAuth } from './http/admin-auth.js';
import { closeHttps, listenHttps } from './http/https.js';
import { SettingsStore } from './settings/settings.js';
import type { ServiceStatus } from './system/service-status.js';
import { BootService, Declarations, Inventory, seedSampleConfig, type InventoryEvent } from './inventory/index.js';
import { probeLink, startDhcpServer, startRackDhcp } from './dhcp/index.js';
import { openMirror } from './mirror/index.js';
import { HostAddressControl } from './settings/host-address-control.js';
import type { NetworkControl } from './settings/network.js';
import { removeStaleTemps, restrictToOwner, SerialQueue } from './store/index.js';
import {
  certificateNames,
  createNotifier,
  readOrCreateCertificate,
  readOrCreateSecret,
  rackAddress,
  requireRackAddress,
  startWatchdog,
  watchRackAddress,
  type Notifier,
} from './system/index.js';
import { startTftpServer } from './tftp/index.js';
import { UpdateService } from './updates/index.js';
import { version } from './version.js';

// Wiring only: configuration -> state -> services -> sd_notify. Each service gets
// what it needs and reads no file of its own.

export interface RunningKindling {
  httpUrl: string;
  /** The setup page and admin API (self-signed; pin `tlsFingerprint`). */
  httpsUrl: string;
  /** SHA-256 of the HTTPS certificate (DATADIR/state/tls/fingerprint). */
  tlsFingerprint: string;
  inventory: Inventory;
  declarations: Declarations;
  adminToken: string;
  /** The setup page's admin password and sessions. */
  auth: AdminAuth;
  /** What the setup page saved (state/settings.json); mirrorSources() is what to mirror. */
  settings: SettingsStore;
  /** Stops accepting, finishes in-flight work, flushes state. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: KindlingConfig;
  configFile: string | null;
  logger: Logger;
  notifier?: Notifier;
  /** For tests: how long the probe before switching to full mode listens (default 6 s, src/dhcp/probe.ts). */
  probeTimeoutMs?: number;
}

export async function startKindling(options: StartOptions): Promise<RunningKindling> {
  const { config, logger } = options;
  const notifier = options.notifier ?? createNotifier(process.env, (err) => logger.warn({ err }, 'sd_notify failed'));
  const stateDir = path.join(config.dataDir, 'state');
  const configDir = path.join(config.dataDir, 'config');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a new directory; what an older version made 0755/0644 is tightened.
  chmodSync(stateDir, 0o700);
  await removeStaleTemps(stateDir);
  await restrictToOwner(stateDir);
  for (const file of await seedSampleConfig(configDir)) logger.info({ file }, 'wrote a sample to start from');

  const declarations = new Declarations(configDir);
  for (const problem of declarations.reload())
    logger.error(problem, 'configuration problem; the last good version stays in force');
  declarations.watch();
  declarations.onChange(() => {
    for (const problem of declarations.problems)
      logger.error(problem, 'configuration problem; the last good version stays in force');
  });
  const discovery = {
    maxDiscovered: config.machines.maxDiscovered,
    perSourcePerMinute: config.machines.discoveryPerMinute,
  };
  const inventory = await Inventory.open({ stateDir, declarations, unknownRule: config.machines.unknown, discovery });
  // machines.yaml is the source of truth: records follow each reload. A write failure
  // here (full disk) is reported by the write's own caller or the next flush, never a crash.
  declarations.onChange(() => void inventory.reconcile().catch(() => undefined));
  // The page's saved settings win over kindling.yaml's (docs/decisions.md, "Setup page").
  const settings = await SettingsStore.open({ stateDir, config });
  inventory.setUnknownRule(settings.unknownRule());
  settings.onChange(() => inventory.setUnknownRule(settings.unknownRule()));
  // What a machine boots: every boot, config and preview route asks this one service
  // (docs/architecture.md, "The path of one boot request").
  const boot = new BootService({ inventory, retrySeconds: config.boot.retrySeconds });
  // At most one per reason a minute (RefusalWarnings, src/inventory/discovery-gate.ts), so a
  // flood of unknown MACs is one line, not one per request.
  inventory.events.on('event', (e: InventoryEvent) => {
    if (e.type === 'discovery-refused') logger.warn({ mac: e.mac, ...e.data }, e.message);
  });
  const auth = await AdminAuth.open({ stateDir });
  const [adminToken, created] = await readOrCreateSecret(path.join(stateDir, 'admin-token'));
  if (created) logger.info({ file: path.join(stateDir, 'admin-token') }, 'created the admin API token');

  const services: Array<() => ServiceStatus> = [];
  const tftp = await startService('tftp', config.tftp.enabled, logger, services, async () => {
    const server = await startTftpServer({ config: config.tftp, logger });
    const { address, port } = server.address();
    return {
      server,
      status: () => ({
        name: 'tftp',
        state: 'running',
        detail: `${server.stats().active} transfers now, ${server.stats().completed} done`,
        listen: `${address}:${port}`,
      }),
    };
  });
  const startDhcpOn = (serverIp: string) => {
    const httpBaseUrl = `http://${serverIp}${config.http.port === 80 ? '' : `:${config.http.port}`}`;
    return startDhcpServer({
      config: config.dhcp,
      serverIp,
      httpBaseUrl,
      dataDir: config.dataDir,
      logger,
      inventory,
      probeTimeoutMs: options.probeTimeoutMs,
    });
  };
  const dhcp = await startRackDhcp({
    mode: () => config.dhcp.mode,
    address: () => requireRackAddress(config),
    start: startDhcpOn,
    logger,
  });
  services.push(() => dhcp.status());
  const stopFollowingAddress = watchRackAddress({
    config,
    current: dhcp.serverIp ?? rackAddress(config) ?? '',
    onChange: (next, previous) => {
      if (!dhcp.server) return;
      logger.warn(
        { previous, next },
        `dhcp: the rack address changed from ${previous} to ${next}; answering from ${next} now`,
      );
      dhcp.moveTo(next).catch((err: unknown) => logger.error({ err, next }, `dhcp: could not start again on ${next}`));
    },
  });
  // The network from the page: kindling.yaml edited in place, then DHCP started again on it.
  const configWrites = new SerialQueue();
  const network: NetworkControl = {
    configFile: options.configFile,
    interfaces: () => networkInterfaces(),
    probe: async (serverIp, device) =>
      (await probeLink({ serverIp, device, timeoutMs: options.probeTimeoutMs })) ?? null,
    save: (changes) =>
      configWrites.run(async () => {
        if (!options.configFile)
          throw new KindlingError(
            'CONFIG_NOT_WRITABLE',
            'Kindling runs on its embedded defaults, with no kindling.yaml to save to; start it with --config FILE',
            {},
          );
        const next = await writeConfigKeys(options.configFile, changes);
        // In place: the routes, the rack-address watch and DHCP read these objects at use.
        Object.assign(config.dhcp, next.dhcp);
        Object.assign(config.server, next.server);
        logger.info(
          { file: options.configFile, keys: changes.map((c) => c.path.join('.')) },
          'network settings changed; starting DHCP again',
        );
        await dhcp.restart();
      }),
  };

  const mirror = await startService('mirror', true, logger, services, async () => {
    const opened = await openMirror({
      config: config.mirror,
      dataDir: config.dataDir,
      logger,
      inUse: () => versionsInstalling(inventory),
      currentSources: () => settings.mirrorSources(),
    });
    settings.onChange(
      () =>
        void opened.refresh().catch((err: unknown) => logger.error({ err }, 'mirror: reading the new sources failed')),
    );
    opened.startSchedule();
    return { server: opened, status: () => opened.status() };
  });
  const updates = mirror
    ? await UpdateService.open({
        stateDir,
        mirror,
        logger,
        machineForKey: (key) => inventory.macForUpdateKey(key),
      })
    : null;
  const tlsDir = path.join(stateDir, 'tls');
  const [certificate, madeBecause] = await readOrCreateCertificate({
    dir: tlsDir,
    names: certificateNames({ advertise: config.server.advertise }),
  });
  if (madeBecause)
    logger.info(
      { dir: tlsDir, names: certificate.names, because: madeBecause },
      'made a self-signed HTTPS certificate',
    );
  let httpsPort = config.http.httpsPort;
  const tls = { fingerprint: certificate.fingerprint, port: () => httpsPort };
  const leasedAddress = (mac: string) => dhcp.server?.leasedAddress(mac) ?? null;
  const app = buildHttpApp({
    config,
    inventory,
    boot,
    declarations,
    logger,
    adminToken,
    auth,
    settings,
    mirror,
    updates,
    tls,
    leasedAddress,
    network,
    hostAddress: new HostAddressControl({
      managed: config.server.hostAddress.manage,
      dir: path.join(config.dataDir, 'host-address'),
      statusFile: config.server.hostAddress.statusFile,
    }),
    services: () => services.map((s) => s()),
    version,
  });
  // HTTPS binds first, so the port the HTTP side redirects to is known before it answers.
  await app.ready();
  const httpsServer = await listenHttps(app, {
    host: config.http.listen,
    port: config.http.httpsPort,
    key: certificate.key,
    cert: certificate.cert,
    logger,
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  httpsPort = (httpsServer.address() as AddressInfo).port;
  await app.listen({ host: config.http.listen, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.listen === '0.0.0.0' ? '127.0.0.1' : config.http.listen;
  const httpUrl = `http://${host}:${port}`;
  const httpsUrl = `https://${host}:${httpsPort}`;

  const running = services
    .map((s) => s())
    .filter((s) => s.state !== 'off' && s.state !== 'failed')
    .map((s) => s.name.toUpperCase());
  const status =
    `HTTP on ${config.http.listen}:${port}, HTTPS ` +
    `on ${httpsPort}${running.length ? `, ${running.join(', ')}` : ''}; ${inventory.list().length} ` +
    `machines; ${declarations.profiles.size} profiles`;
  await notifier.notify({ READY: 1, STATUS: status, MAINPID: process.pid });
  const stopWatchdog = startWatchdog(notifier);
  logger.info(
    {
      http: httpUrl,
      https: httpsUrl,
      tlsFingerprint: certificate.fingerprint,
      dataDir: config.dataDir,
      config: options.configFile ?? '(embedded defaults)',
      version,
    },
    `Kindling ${version} ready: ${status}`,
  );
  logger.info({ file: path.join(tlsDir, 'fingerprint') }, `setup page certificate SHA-256 ${certificate.fingerprint}`);

  let closing: Promise<void> | null = null;
  return {
    httpUrl,
    httpsUrl,
    tlsFingerprint: certificate.fingerprint,
    inventory,
    declarations,
    adminToken,
    auth,
    settings,
    close: () => {
      closing ??= (async () => {
        await notifier.notify({ STOPPING: 1, STATUS: 'stopping' });
        stopWatchdog?.();
        stopFollowingAddress();
        declarations.close();
        await Promise.all([app.close(), closeHttps(httpsServer)]);
        await Promise.all([tftp?.close(), dhcp.close(), mirror?.close(), updates?.close()]);
        await inventory.close();
        notifier.close();
      })();
      return closing;
    },
  };
}

/**
 * Pinned versions that machines are installing right now, which mirror retention must
 * keep. `current` needs no entry: the current version and the `keep` newest are kept.
 */
function versionsInstalling(inventory: Inventory): Set<string> {
  const versions = inventory
    .list()
    .filter((m) => m.state === 'installing')
    .map((m) => inventory.profileOf(m).profile?.version)
    .filter((v): v is string => v !== undefined && v !== 'current');
  return new Set(versions);
}

/**
 * Starts one optional service. A service that cannot start (a port taken, no address
 * on the interface) is reported as failed on /healthz with the reason, and the rest
 * of Kindling keeps serving, so the page can show what is wrong.
 */
async function startService<T extends { close(): Promise<void> }>(
  name: string,
  enabled: boolean,
  logger: Logger,
  services: Array<() => ServiceStatus>,
  start: () => Promise<{ server: T; status: () => ServiceStatus }>,
): Promise<T | null> {
  if (!enabled) {
    services.push(() => ({ name, state: 'off', detail: 'disabled in the configuration' }));
    return null;
  }
  try {
    const { server, status } = await start();
    services.push(status);
    return server;
  } catch (err) {
    const reason = (err as Error).message;
    logger.error({ err, service: name }, `${name} did not start: ${reason}`);
    services.push(() => ({ name, state: 'failed', detail: reason }));
    return null;
  }
}
