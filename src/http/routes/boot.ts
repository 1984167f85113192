import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import { bootDecision } from '../../inventory/boot-decision.js';
import { parseMac } from '../../inventory/mac.js';
import { bootstrapScript } from '../../render/ipxe.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../context.js';

// Boot routes (docs/how-a-node-boots.md, /boot.ipxe and /ipxe): every iPXE client fetches /boot.ipxe, which
// chains to /ipxe with its MAC and firmware; /ipxe answers from the boot decision.

const ipxeQuery = {
  type: 'object',
  required: ['mac'],
  properties: {
    mac: { type: 'string', maxLength: 40 },
    uuid: { type: 'string', maxLength: 64 },
    arch: { type: 'string', maxLength: 16, pattern: '^[A-Za-z0-9_]*$' },
    platform: { type: 'string', maxLength: 16, pattern: '^[A-Za-z0-9_]*$' },
  },
} as const;

export function bootRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory, config } = deps;
  bootFileRoutes(app, deps);

  app.get('/boot.ipxe', async (request, reply) => {
    reply.type('text/plain; charset=utf-8');
    return bootstrapScript(serverUrlFor(request, config));
  });

  app.get<{ Querystring: { mac: string; uuid?: string; arch?: string; platform?: string } }>(
    '/ipxe',
    { schema: { querystring: ipxeQuery } },
    async (request, reply) => {
      const mac = macParam(request.query.mac);
      const { arch = null, platform = null, uuid = null } = request.query;
      let machine = await inventory.seen(
        mac,
        { arch: arch || null, platform: platform || null, uuid: uuid || null, lastIp: clientIp(request) },
        'iPXE',
      );
      const { profile, problem } = inventory.profileOf(machine);
      const decision = bootDecision({
        machine,
        profile,
        profileProblem: problem,
        request: { arch: arch || null, platform: platform || null },
        serverUrl: serverUrlFor(request, config),
        retrySeconds: config.boot.retrySeconds,
      });
      if (decision.nextState && decision.nextState !== machine.state) {
        machine = await inventory.transition(mac, decision.nextState, decision.reason, { arch, platform });
      } else if (decision.kind !== 'wait') {
        // Wait loops repeat every few seconds: logged, but not written to the event history.
        inventory.note(mac, 'boot', decision.reason, { kind: decision.kind, arch, platform });
      }
      request.log.info(
        { mac, name: machine.name, state: machine.state, boot: decision.kind, arch, platform },
        decision.reason,
      );
      reply.type('text/plain; charset=utf-8');
      return decision.script;
    },
  );
}

/**
 * The iPXE binaries over HTTP, for UEFI HTTP boot clients (DHCP arch 16 gets
 * http://SERVER/ipxe.efi). Only the configured boot file names are served, looked up
 * in the TFTP roots, so no request path ever reaches the file system.
 */
function bootFileRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { tftp, dhcp } = deps.config;
  const names = new Set(
    [
      'ipxe.efi',
      'snponly.efi',
      'undionly.kpxe',
      dhcp.bootFiles.bios,
      dhcp.bootFiles.uefi,
      ...(dhcp.bootFiles.arm64 ? [dhcp.bootFiles.arm64] : []),
    ].filter((n) => !n.includes('/')),
  );
  const roots = [...tftp.roots, ...(tftp.extraRoot ? [tftp.extraRoot] : [])];
  for (const name of names) {
    app.get(`/${name}`, async (_request, reply) => {
      const file = roots.map((root) => path.join(root, name)).find((f) => existsSync(f));
      if (!file)
        throw new KindlingError(
          'BOOT_FILE_MISSING',
          `${name} is not in any TFTP root (${roots.join(', ')}); install Debian's ipxe package or set tftp.roots`,
        );
      // Firmware HTTP boot clients show progress and check the size from Content-Length.
      reply.type('application/octet-stream').header('content-length', String(statSync(file).size));
      return reply.send(createReadStream(file));
    });
  }
}

/** Parses the `mac` query parameter or throws a 400 naming it. */
export function macParam(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new KindlingError('REQUEST_INVALID', 'the query parameter "mac" is required, such as ?mac=52:54:00:aa:bb:cc');
  return parseMac(value);
}
