import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import {
  addressesOf,
  configChangesFor,
  defaultConfirmSeconds,
  followAddress,
  hostAddressChangeSchema,
  withAddress,
  type HostAddressView,
} from '../../settings/host-address.js';
import { networkProblems, networkSettingsOf, rackInterfaceOf } from '../../settings/network.js';
import {
  hostAddressConfirmSchema,
  hostAddressProblems,
  parseHostCidr,
  type HostAddressRequest,
} from '../../system/host-address-protocol.js';
import type { HttpDeps } from '../context.js';
import { keyedProblemsError, parseBody } from '../errors.js';

// GET/PUT /api/settings/host-address and POST .../confirm: the Pi's own address from the
// page. A change is checked against the interface as it will be, handed to the root-side
// helper, and kept only when the operator confirms it from the new address; otherwise
// the helper puts the old one back (docs/appliance.md, "The Pi's own address").

export function hostAddressRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const control = deps.hostAddress;
  const rackInterface = () => rackInterfaceOf(networkSettingsOf(deps.config), deps.config.server.interface);

  const view = async (): Promise<HostAddressView> => {
    const { status, pending } = await control.state();
    return {
      managed: control.managed,
      interface: rackInterface(),
      addresses: addressesOf(deps.network.interfaces(), rackInterface()),
      status,
      pending: pending && {
        id: pending.request.id,
        method: pending.request.method,
        address: pending.request.address,
        since: pending.since.toISOString(),
      },
    };
  };

  app.get('/settings/host-address', async () => view());

  app.put('/settings/host-address', async (request, reply) => {
    if (!control.managed)
      throw new KindlingError(
        'HOST_ADDRESS_UNMANAGED',
        "this Kindling does not set its machine's address: server.hostAddress.manage is false. On the appliance " +
          'image a root-side helper applies it; elsewhere set the address with the OS tools',
        {},
      );
    const change = parseBody(hostAddressChangeSchema, request.body, 'settings/host-address');
    const wanted: HostAddressRequest = {
      id: control.newId(),
      method: change.method,
      address: change.address ?? null,
      gateway: change.gateway ?? null,
      dns: change.dns ?? [],
      confirmSeconds: change.confirmSeconds ?? defaultConfirmSeconds,
      restartKindling: false,
    };
    const problems = hostAddressProblems(wanted);
    if (problems.length > 0) throw keyedProblemsError('HOST_ADDRESS_INVALID', problems);

    const iface = rackInterface();
    const interfaces = deps.network.interfaces();
    const oldIp = (interfaces[iface] ?? []).find((a) => a.family === 'IPv4')?.address ?? null;
    const newIp = wanted.address === null ? null : (parseHostCidr(wanted.address)?.address ?? null);
    const current = networkSettingsOf(deps.config);
    const next = followAddress(current, change, oldIp, newIp);
    if (wanted.method === 'dhcp' && next.dhcp.mode === 'full')
      throw keyedProblemsError('HOST_ADDRESS_INVALID', [
        {
          key: 'method',
          message:
            'method "dhcp" with dhcp.mode full: Kindling hands out this network\'s addresses, so it cannot ' +
            'take its own from a DHCP server; expected a static address, or dhcp.mode proxy or auto in the same change',
        },
      ]);
    // With DHCP the next address is not known yet; the keys are checked as they stand.
    const future = newIp === null ? interfaces : withAddress(interfaces, iface, wanted.address);
    const networkIssues = networkProblems(next, deps.config.server.interface, future);
    if (networkIssues.length > 0) throw keyedProblemsError('NETWORK_INVALID', networkIssues);
    const { changes, undo } = configChangesFor(current, next);
    if (changes.length > 0 && !deps.network.configFile)
      throw new KindlingError(
        'CONFIG_NOT_WRITABLE',
        `the address change needs kindling.yaml changed too (${changes.map((c) => c.path.join('.')).join(', ')}), ` +
          'and Kindling runs on its embedded defaults; start it with --config FILE',
        {},
      );
    // A new server.advertise is read at start only (the certificate, the rack-address watch).
    wanted.restartKindling = next.server.advertise !== current.server.advertise;
    await control.submit({ request: wanted, changes, undo });
    request.log.info(
      { id: wanted.id, method: wanted.method, address: wanted.address, keys: changes.map((c) => c.path.join('.')) },
      'host address change requested',
    );
    const port = deps.tls.port();
    const host = newIp ?? 'kindling.local';
    reply.code(202);
    return {
      ...(await view()),
      confirmUrl: `https://${host}${port === 443 ? '' : `:${port}`}/#/settings`,
      changed: changes.map((c) => c.path.join('.')),
    };
  });

  app.post('/settings/host-address/confirm', async (request) => {
    const { id } = parseBody(hostAddressConfirmSchema, request.body, 'settings/host-address/confirm');
    const { status, pending } = await control.state();
    const left = status?.deadline ? Date.parse(status.deadline) - Date.now() : 0;
    if (!pending || pending.request.id !== id || status?.id !== id || status.state !== 'waiting-confirm' || left < 3000)
      throw new KindlingError(
        'HOST_ADDRESS_NOT_WAITING',
        `address change ${id.slice(0, 64)} is not waiting for a confirmation` +
          (status?.id === id
            ? ` (it is ${status.state}${left > 0 && left < 3000 ? ', and about to go back' : ''})`
            : ''),
        { id, state: status?.id === id ? status.state : null },
      );
    // kindling.yaml first: a confirmation that cannot be saved is no confirmation, and the helper goes back.
    if (pending.changes.length > 0) await deps.network.save(pending.changes);
    const final = await control.confirm(id);
    if (final.state !== 'confirmed') {
      if (pending.undo.length > 0) await deps.network.save(pending.undo);
      throw new KindlingError(
        'HOST_ADDRESS_REVERTED',
        `address change ${id} ended ${final.state} before the confirmation arrived: ${final.error ?? ''}`,
        { id, state: final.state },
      );
    }
    request.log.info({ id, address: final.address }, 'host address confirmed');
    return { ...(await view()), restarting: pending.request.restartKindling };
  });
}
