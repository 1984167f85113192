import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KindlingError } from '../../errors.js';
import { ConfigAccess } from '../config-access.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../context.js';
import { fromThisBox } from '../https.js';
import { macParam } from './boot.js';

// Config routes (docs/architecture.md, "The path of one boot request"): the config in
// the phase the machine's boot plan names (install while it installs, target
// otherwise). An unknown or unassigned machine gets a 404 with the reason, never a
// half-rendered file. Only the machine itself may read its config (config-access.ts):
// the config holds its callback token and update key.

type Format = 'ignition' | 'cloud-config';

export function configRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory, boot, config } = deps;
  const access = new ConfigAccess({ leasedAddress: deps.leasedAddress });
  const serve =
    (format: Format) =>
    async (request: FastifyRequest<{ Querystring: { mac?: string; phase?: string } }>, reply: FastifyReply) => {
      const mac = macParam(request.query.mac);
      const phase = request.query.phase;
      if (phase !== undefined && phase !== 'install' && phase !== 'target')
        throw new KindlingError(
          'REQUEST_INVALID',
          `phase must be install or target, found "${String(phase).slice(0, 20)}"`,
        );
      const machine = inventory.get(mac);
      if (!machine)
        throw new KindlingError(
          'MACHINE_UNKNOWN',
          `no machine with MAC ${mac} is known; it must boot through /ipxe or be declared in machines.yaml first`,
          { mac },
        );
      const ip = clientIp(request);
      const verdict = access.check(machine, ip, fromThisBox(request.socket));
      if (!verdict.ok) {
        // Logged, and one event per machine state at most: a refused flood must not fill the SD card.
        request.log.warn({ mac, ip, code: verdict.code }, 'config fetch refused');
        if (verdict.code === 'CONFIG_ADDRESS' && access.firstOfItsKind(machine, 'refused'))
          inventory.note(mac, 'config-refused', verdict.reason, { ip });
        if (verdict.retryAfterSeconds) reply.header('retry-after', String(verdict.retryAfterSeconds));
        throw new KindlingError(verdict.code, verdict.reason, { mac, ip });
      }
      const rendered = boot.renderConfig(machine, {
        phase,
        serverUrl: serverUrlFor(request, config),
        requestIp: ip,
        token: (p) => inventory.callbackToken(mac, p),
        updateKey: inventory.updateKey(mac),
      });
      const wanted = rendered.config.format === 'cloud-config' ? 'cloud-config' : 'ignition';
      if (wanted !== format) {
        throw new KindlingError(
          'REQUEST_INVALID',
          `machine ${mac} (profile ${rendered.profile.name}) is served ${wanted}; fetch /${wanted}?mac=${mac}`,
          { mac },
        );
      }
      if (access.firstOfItsKind(machine, `${rendered.phase} ${rendered.config.format}`)) {
        inventory.note(mac, 'config', `${rendered.phase} ${rendered.config.format} config fetched`, {
          phase: rendered.phase,
          format: rendered.config.format,
          ip,
        });
      }
      request.log.info({ mac, phase: rendered.phase, format: rendered.config.format }, 'config served');
      reply.type(rendered.config.contentType).header('cache-control', 'no-store');
      return rendered.config.body;
    };
  app.get('/ignition', serve('ignition'));
  app.get('/cloud-config', serve('cloud-config'));
}
