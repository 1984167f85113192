import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import {
  mergeNetwork,
  networkChanges,
  networkChangeSchema,
  networkProblems,
  networkSettingsOf,
  rackInterfaceOf,
  serverAddressOf,
  type InterfaceTable,
  type NetworkControl,
  type NetworkSaved,
  type NetworkSettings,
  type NetworkSettingsView,
  type OtherServerRefusal,
} from '../../settings/network.js';
import type { HttpDeps } from '../context.js';
import { keyedProblemsError, parseBody } from '../errors.js';

// GET/PUT /api/settings/network: the DHCP keys and server.advertise from the Settings
// page and the wizard. A change is checked against this machine's interfaces, probed
// for before full mode is switched on, written to kindling.yaml (comments kept) and
// applied by starting DHCP again; Kindling itself keeps running.

export function networkRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const control = deps.network;
  if (!control) return;

  const view = (): NetworkSettingsView => {
    const settings = networkSettingsOf(deps.config);
    const interfaces = control.interfaces();
    return {
      settings,
      configFile: control.configFile,
      rackInterface: rackInterfaceOf(settings, deps.config.server.interface),
      interfaces: Object.entries(interfaces)
        .map(([name, list]) => ({
          name,
          addresses: (list ?? []).filter((a) => a.family === 'IPv4').map((a) => `${a.address}/${a.netmask}`),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      dhcp: deps.services().find((s) => s.name === 'dhcp') ?? null,
    };
  };

  app.get('/settings/network', async () => view());

  app.put('/settings/network', async (request): Promise<NetworkSaved> => {
    const change = parseBody(networkChangeSchema, request.body, 'settings/network');
    const current = networkSettingsOf(deps.config);
    const next = mergeNetwork(current, change);
    const interfaces = control.interfaces();
    const problems = networkProblems(next, deps.config.server.interface, interfaces);
    if (problems.length > 0) {
      throw keyedProblemsError('NETWORK_INVALID', problems);
    }
    const changes = networkChanges(current, next);
    if (changes.length === 0) return { ...view(), changed: [], restartNeeded: [] };
    if (!control.configFile)
      throw new KindlingError(
        'CONFIG_NOT_WRITABLE',
        'Kindling runs on its embedded defaults, with no kindling.yaml to save to; start ' +
          'it with --config FILE to change the network from the page',
        {},
      );

    if (next.dhcp.mode === 'full' && !change.force) await refuseBesideAnotherServer(control, deps, next, interfaces);
    await control.save(changes);
    const changed = changes.map((c) => c.path.join('.'));
    request.log.info({ keys: changed }, 'network settings changed');
    const restartNeeded =
      next.server.advertise !== current.server.advertise
        ? [
            'the HTTPS certificate names the old server.advertise, and the rack address is followed ' +
              '(advertise: auto) as it was at start, until Kindling restarts',
          ]
        : [];
    return { ...view(), changed, restartNeeded };
  });
}

/**
 * Full mode hands out addresses; beside another DHCP server the two would fight. Probe
 * (src/dhcp/probe.ts) unless full mode already runs on the same interface and address.
 */
async function refuseBesideAnotherServer(
  control: NetworkControl,
  deps: HttpDeps,
  next: NetworkSettings,
  interfaces: InterfaceTable,
): Promise<void> {
  const rackInterface = rackInterfaceOf(next, deps.config.server.interface);
  const serverIp = serverAddressOf(next, rackInterface, interfaces);
  if (serverIp === null) return; // networkProblems already refused this for any mode but off
  const running = deps.services().find((s) => s.name === 'dhcp');
  const now = running?.dhcp;
  if (
    now?.mode === 'full' &&
    running?.listen === `${serverIp}:67` &&
    next.dhcp.interface === deps.config.dhcp.interface
  )
    return;
  const answer = await control.probe(serverIp, next.dhcp.interface);
  if (!answer) return;
  const refusal: OtherServerRefusal = { servers: [answer], interface: next.dhcp.interface };
  throw new KindlingError(
    'DHCP_OTHER_SERVER',
    `dhcp.mode "full": another DHCP server answered the probe on ${next.dhcp.interface ?? 'every interface'} ` +
      `from ${serverIp}: ${answer.server} offered ${answer.offered}; expected no other server before Kindling ` +
      `hands out addresses. Use proxy or auto, or switch it off, or send force to switch anyway`,
    {
      ...refusal,
      issues: [
        {
          path: ['dhcp', 'mode'],
          message: `another DHCP server answered at ${answer.server} (offered ${answer.offered})`,
        },
      ],
    },
  );
}
