import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KindlingError } from '../../errors.js';
import type { ConfigPhase } from '../../inventory/callback-tokens.js';
import type { Inventory, Machine } from '../../inventory/inventory.js';
import { macHyphen } from '../../inventory/mac.js';
import type { Profile } from '../../inventory/profile.js';
import {
  renderInstallConfig,
  renderTargetConfig,
  type RenderContext,
  type RenderedConfig,
} from '../../render/index.js';
import { ConfigAccess } from '../config-access.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../context.js';
import { fromThisBox } from '../https.js';
import { macParam } from './boot.js';

// Config routes (docs/how-a-node-boots.md, the /ignition fetches): the install-phase config while a machine
// installs, the target config otherwise. An unknown or unassigned machine gets a
// 404 with the reason, never a half-rendered file. Only the machine itself may read
// its config (config-access.ts): the config holds its callback token.

type Format = 'ignition' | 'cloud-config';

const installPhaseStates = new Set(['assigned', 'installing', 'reinstall-requested']);

export function renderForMachine(options: {
  inventory: Inventory;
  machine: Machine;
  phase?: ConfigPhase | undefined;
  serverUrl: string;
  requestIp: string | null;
  /** The callback token to render for a phase: the machine's own, or a mask for previews. */
  token: (phase: ConfigPhase) => string;
}): { config: RenderedConfig; phase: ConfigPhase; profile: Profile } {
  const { inventory, machine, serverUrl } = options;
  const { profile, problem } = inventory.profileOf(machine);
  if (problem) throw new KindlingError('PROFILE_UNKNOWN', `machine ${machine.mac}: ${problem}`, { mac: machine.mac });
  if (!profile)
    throw new KindlingError(
      'MACHINE_UNASSIGNED',
      `machine ${machine.mac} has no profile assigned, so there is no config for it yet`,
      { mac: machine.mac },
    );
  const phase: ConfigPhase =
    options.phase ?? (profile.mode === 'install' && installPhaseStates.has(machine.state) ? 'install' : 'target');
  if (phase === 'install' && profile.mode !== 'install')
    throw new KindlingError('REQUEST_INVALID', `profile ${profile.name} is a live profile; it has no install phase`, {
      profile: profile.name,
    });
  const ctx: RenderContext = {
    mac: machine.mac,
    name: machine.name ?? macHyphen(machine.mac),
    ip: machine.reservedIp ?? options.requestIp,
    serverUrl,
    token: options.token(phase),
    vars: machine.vars,
  };
  const config = phase === 'install' ? renderInstallConfig(profile, ctx) : renderTargetConfig(profile, ctx);
  return { config, phase, profile };
}

export function configRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory, config } = deps;
  const access = new ConfigAccess({ leasedAddress: deps.leasedAddress ?? (() => null) });
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
      const rendered = renderForMachine({
        inventory,
        machine,
        phase,
        serverUrl: serverUrlFor(request, config),
        requestIp: ip,
        token: (p) => inventory.callbackToken(mac, p),
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
