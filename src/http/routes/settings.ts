import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import { settingsPatchSchema, type SettingsPatch } from '../../settings/settings.js';
import { recommend } from '../../settings/network.js';
import type { HttpDeps } from '../context.js';
import { parseBody } from '../errors.js';
import { hostAddressRoutes } from './host-address.js';
import { networkRoutes } from './network.js';

// What the wizard and the Settings view read and write: settings.json (mirror
// sources, SSH keys, default profile, unknown-machine rule) and the network as
// Kindling sees it.

export function settingsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { settings } = deps;

  const view = () => ({
    settings: settings.current,
    inForce: { mirrorSources: settings.mirrorSources(), unknownRule: settings.unknownRule() },
    fromConfig: {
      mirrorSources: deps.config.mirror.sources,
      unknownRule: deps.config.machines.unknown,
      mirrorSchedule: deps.config.mirror.schedule,
      mirrorKeep: deps.config.mirror.keep,
    },
  });

  app.get('/settings', async () => view());

  app.put('/settings', async (request) => {
    const parsed = parseBody(settingsPatchSchema, request.body, 'settings');
    // The schema fills defaults for absent keys; a patch changes only the keys it sends.
    const sent = (request.body ?? {}) as Record<string, unknown>;
    const patch = Object.fromEntries(Object.entries(parsed).filter(([key]) => key in sent)) as SettingsPatch;
    const rule = patch.unknownRule;
    if (rule && rule !== 'wait' && !deps.declarations.profiles.has(rule.profile)) {
      throw new KindlingError(
        'PROFILE_UNKNOWN',
        `settings: key "unknownRule.profile": there is no profile "${rule.profile}"`,
        { issues: [{ path: ['unknownRule', 'profile'], message: `there is no profile "${rule.profile}"` }] },
      );
    }
    // The inventory follows the new unknown-machine rule through settings.onChange (src/main.ts).
    await settings.update(patch);
    request.log.info({ keys: Object.keys(patch) }, 'settings changed');
    return view();
  });

  app.get('/setup/network', async () => {
    const addresses = Object.entries(networkInterfaces()).flatMap(([name, list]) =>
      (list ?? [])
        .filter((a) => !a.internal)
        .map((a) => ({ interface: name, address: a.address, family: a.family, cidr: a.cidr })),
    );
    const dhcp = deps.services().find((s) => s.name === 'dhcp') ?? null;
    return {
      // The interface the rack is served on: DHCP's when it is set.
      interface: deps.config.dhcp.interface ?? deps.config.server.interface,
      addresses,
      http: `${deps.config.http.listen}:${deps.config.http.port}`,
      dhcp: { configuredMode: deps.config.dhcp.mode, service: dhcp },
      recommendation: recommend(deps.config.dhcp.mode, dhcp),
    };
  });

  networkRoutes(app, deps);
  hostAddressRoutes(app, deps);
}
