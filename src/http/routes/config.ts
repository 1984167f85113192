import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KindlingError } from '../../errors.js';
import type { Inventory, Machine } from '../../inventory/inventory.js';
import { macHyphen } from '../../inventory/mac.js';
import type { Profile } from '../../inventory/profile.js';
import { renderInstallConfig, renderTargetConfig, type RenderContext, type RenderedConfig } from '../../render/index.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../context.js';
import { macParam } from './boot.js';

// Config routes (design.md steps 6-7): the install-phase config while a machine
// installs, the target config otherwise. An unknown or unassigned machine gets a
// 404 with the reason, never a half-rendered file.

type Phase = 'install' | 'target';
type Format = 'ignition' | 'cloud-config';

const installPhaseStates = new Set(['assigned', 'installing', 'reinstall-requested']);

export function renderForMachine(options: { inventory: Inventory; machine: Machine; phase?: Phase | undefined; serverUrl: string; requestIp: string | null }): { config: RenderedConfig; phase: Phase; profile: Profile } {
  const { inventory, machine, serverUrl } = options;
  const { profile, problem } = inventory.profileOf(machine);
  if (problem) throw new KindlingError('PROFILE_UNKNOWN', `machine ${machine.mac}: ${problem}`, { mac: machine.mac });
  if (!profile) throw new KindlingError('MACHINE_UNASSIGNED', `machine ${machine.mac} has no profile assigned, so there is no config for it yet`, { mac: machine.mac });
  const phase: Phase = options.phase ?? (profile.mode === 'install' && installPhaseStates.has(machine.state) ? 'install' : 'target');
  if (phase === 'install' && profile.mode !== 'install') throw new KindlingError('REQUEST_INVALID', `profile ${profile.name} is a live profile; it has no install phase`, { profile: profile.name });
  const ctx: RenderContext = {
    mac: machine.mac,
    name: machine.name ?? macHyphen(machine.mac),
    ip: machine.reservedIp ?? options.requestIp,
    serverUrl,
    token: machine.token,
    vars: machine.vars,
  };
  const config = phase === 'install' ? renderInstallConfig(profile, ctx) : renderTargetConfig(profile, ctx);
  return { config, phase, profile };
}

export function configRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory, config } = deps;
  const serve = (format: Format) => async (request: FastifyRequest<{ Querystring: { mac?: string; phase?: string } }>, reply: import('fastify').FastifyReply) => {
    const mac = macParam(request.query.mac);
    const phase = request.query.phase;
    if (phase !== undefined && phase !== 'install' && phase !== 'target') throw new KindlingError('REQUEST_INVALID', `phase must be install or target, found "${String(phase).slice(0, 20)}"`);
    const machine = inventory.get(mac);
    if (!machine) throw new KindlingError('MACHINE_UNKNOWN', `no machine with MAC ${mac} is known; it must boot through /ipxe or be declared in machines.yaml first`, { mac });
    const rendered = renderForMachine({ inventory, machine, phase, serverUrl: serverUrlFor(request, config), requestIp: clientIp(request) });
    const wanted = rendered.config.format === 'cloud-config' ? 'cloud-config' : 'ignition';
    if (wanted !== format) {
      throw new KindlingError('REQUEST_INVALID', `machine ${mac} (profile ${rendered.profile.name}) is served ${wanted}; fetch /${wanted}?mac=${mac}`, { mac });
    }
    inventory.note(mac, 'config', `${rendered.phase} ${rendered.config.format} config fetched`, { phase: rendered.phase, format: rendered.config.format, ip: clientIp(request) });
    request.log.info({ mac, phase: rendered.phase, format: rendered.config.format }, 'config served');
    reply.type(rendered.config.contentType).header('cache-control', 'no-store');
    return rendered.config.body;
  };
  app.get('/ignition', serve('ignition'));
  app.get('/cloud-config', serve('cloud-config'));
}
