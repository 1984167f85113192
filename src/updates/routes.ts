import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../errors.js';
import { clientIp, serverUrlFor, type HttpDeps } from '../http/context.js';
import type { Inventory, Machine } from '../inventory/inventory.js';
import type { UpdateRecord } from './decision.js';
import { maxRequestBytes } from './omaha.js';
import type { UpdateService } from './service.js';

// POST /v1/update/ (Nebraska's path, update.conf SERVER=) for nodes, and
// /api/updates for the admin: group policy and what each machine reported.

const xmlTypes = /^(text|application)\/xml(\s*;.*)?$/i;
/** An update key as Inventory makes them (base64url); 64 leaves room without letting a URL grow a record. */
const nodeKeyPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The ?node= update key, or null: a missing, repeated, over-long or odd one counts as no key, never an error. */
export function nodeKeyOf(query: unknown): string | null {
  const value = typeof query === 'object' && query !== null ? (query as Record<string, unknown>)['node'] : undefined;
  return typeof value === 'string' && nodeKeyPattern.test(value) ? value : null;
}

/** Node-facing, open like the mirror: update_engine sends no credentials. */
export function updateRoutes(app: FastifyInstance, deps: HttpDeps & { updates: UpdateService }): void {
  app.register(async (scope) => {
    // Only this scope reads XML; everywhere else keeps taking JSON alone. Any other type
    // (curl -d sends x-www-form-urlencoded) is read too, so the refusal names the header.
    scope.addContentTypeParser(
      ['text/xml', 'application/xml'],
      { parseAs: 'string', bodyLimit: maxRequestBytes },
      (_request, body, done) => done(null, body),
    );
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxRequestBytes }, (_request, body, done) =>
      done(null, body),
    );
    const handler = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
      const type = request.headers['content-type'] ?? '';
      if (!xmlTypes.test(type) || typeof request.body !== 'string') {
        throw new KindlingError(
          'OMAHA_REQUEST_INVALID',
          `Omaha request: content-type "${type.slice(0, 60)}"; expected text/xml, as update_engine sends`,
          { contentType: type },
        );
      }
      const xml = deps.updates.handle(
        request.body,
        clientIp(request),
        serverUrlFor(request, deps.config),
        nodeKeyOf(request.query),
      );
      return reply.type('text/xml; charset=utf-8').send(xml);
    };
    scope.post('/v1/update/', handler);
    scope.post('/v1/update', handler);
  });
}

/**
 * A machine's update record with the machine it belongs to: the one its update key names,
 * else (no key sent) the one Kindling knows at its address, else none.
 */
export type UpdateMachine = UpdateRecord & { name: string | null; matchedBy: 'key' | 'address' | null };

function joinToMachines(
  records: UpdateRecord[],
  inventory: Inventory,
  leasedAddress: ((mac: string) => string | null) | undefined,
): UpdateMachine[] {
  const machines = inventory.list();
  const byMac = new Map(machines.map((m) => [m.mac, m]));
  const byIp = new Map<string, Machine>();
  for (const m of machines) {
    for (const ip of [m.reservedIp, leasedAddress?.(m.mac) ?? null, m.facts.lastIp])
      if (ip && !byIp.has(ip)) byIp.set(ip, m);
  }
  return records.map((r) => {
    // A key that names no machine is a reinstalled system's or a forgery: the address, perhaps
    // reused by another machine since, must not put it on that machine's row.
    const byKey = r.mac === null ? undefined : byMac.get(r.mac);
    const byAddress = r.sentKey ? undefined : byIp.get(r.ip);
    const machine = byKey ?? byAddress;
    return {
      ...r,
      mac: machine?.mac ?? null,
      name: machine?.name ?? null,
      matchedBy: byKey ? 'key' : byAddress ? 'address' : null,
    };
  });
}

/** Inside the admin scope (src/http/admin-api.ts): token or session, CSRF on writes. */
export function updateAdminRoutes(api: FastifyInstance, deps: HttpDeps & { updates: UpdateService }): void {
  const { updates } = deps;
  const view = () => ({
    groups: updates.groups(),
    machines: joinToMachines(updates.machines(), deps.inventory, deps.leasedAddress),
  });
  api.get('/updates', async () => view());
  api.put<{ Params: { group: string } }>('/updates/groups/:group', async (request) => {
    const policy = await updates.setPolicy(request.params.group, request.body);
    request.log.info({ group: request.params.group, policy }, 'update policy changed');
    return view();
  });
  api.delete<{ Params: { group: string } }>('/updates/groups/:group', async (request) => {
    await updates.resetPolicy(request.params.group);
    return view();
  });
}
