import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import { parseMac } from '../../inventory/mac.js';
import { bootstrapScript, renderBootPlan } from '../../render/ipxe.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../context.js';

// Boot routes (docs/architecture.md, "The path of one boot request"): every iPXE client
// fetches /boot.ipxe, which chains to /ipxe with its MAC and firmware; /ipxe hands the
// visit to the boot service and renders the plan it returns.

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
  const { boot, config } = deps;
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
      const { plan, machine } = await boot.visit({
        mac,
        arch,
        platform,
        uuid,
        ip: clientIp(request),
        serverUrl: serverUrlFor(request, config),
      });
      request.log.info({ mac, name: machine.name, state: machine.state, boot: plan.kind, arch, platform }, plan.reason);
      reply.type('text/plain; charset=utf-8');
      return renderBootPlan(plan);
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
