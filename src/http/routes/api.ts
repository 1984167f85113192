import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import type { Machine } from '../../inventory/inventory.js';
import { profileNamePattern } from '../../inventory/profile.js';
import { renderBootPlan } from '../../render/ipxe.js';
import { serverUrlFor, type HttpDeps } from '../context.js';
import { macParam } from './boot.js';

// The admin JSON API (docs/api.md). Every call is checked on the server before it
// gets here (admin-guard.ts): the bearer token, or the page's session and CSRF token.

export const maskedToken = '********';

/** The API's machine shape keeps a `token` field; the real tokens never leave the inventory. */
function publicMachine(m: Machine): Machine & { token: string } {
  return { ...m, token: maskedToken };
}

const assignBody = {
  type: 'object',
  required: ['profile'],
  additionalProperties: false,
  properties: {
    profile: { type: 'string', pattern: profileNamePattern.source },
    name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' },
  },
} as const;

/** Bytes Node may hold for one event-stream client before it is dropped (a few thousand events). */
const streamBufferBytes = 1024 * 1024;
const maxStreamsPerSession = 8;
const maxStreams = 64;

export function apiRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory, boot, declarations, config } = deps;
  /** Open event streams and the session (or the bearer token) each belongs to. */
  const streams = new Map<import('node:http').ServerResponse, string>();
  app.get('/machines', async () => ({ machines: inventory.list().map(publicMachine) }));

  app.get<{ Params: { mac: string } }>('/machines/:mac', async (request) => {
    const machine = inventory.require(macParam(request.params.mac));
    return { machine: publicMachine(machine), events: inventory.recentEvents(machine.mac) };
  });

  app.post<{ Params: { mac: string }; Body: { profile: string; name?: string } }>(
    '/machines/:mac/assign',
    { schema: { body: assignBody } },
    async (request) => {
      const mac = macParam(request.params.mac);
      const machine = await inventory.assign(mac, request.body.profile, request.body.name);
      return { machine: publicMachine(machine) };
    },
  );

  app.post<{ Params: { mac: string } }>('/machines/:mac/reinstall', async (request) => {
    return { machine: publicMachine(await inventory.requestReinstall(macParam(request.params.mac))) };
  });

  app.delete<{ Params: { mac: string } }>('/machines/:mac', async (request) => {
    const mac = macParam(request.params.mac);
    await inventory.forget(mac);
    return { forgotten: mac };
  });

  // What a machine would get now, secrets masked: the page's preview and `kindling render`.
  app.get<{ Params: { mac: string }; Querystring: { as?: string; phase?: 'install' | 'target' } }>(
    '/machines/:mac/render',
    async (request, reply) => {
      const machine = inventory.require(macParam(request.params.mac));
      const as = request.query.as ?? 'ipxe';
      const serverUrl = serverUrlFor(request, config);
      reply.type('text/plain; charset=utf-8');
      // The plan /ipxe would serve, from what the machine said last; nothing is recorded.
      if (as === 'ipxe') return renderBootPlan(boot.plan(machine, { serverUrl }));
      if (as !== 'ignition' && as !== 'cloud-config')
        throw new KindlingError(
          'REQUEST_INVALID',
          `as must be ipxe, ignition or cloud-config, found "${as.slice(0, 20)}"`,
        );
      const { config: rendered } = boot.renderConfig(machine, {
        phase: request.query.phase,
        serverUrl,
        requestIp: null,
        token: () => maskedToken,
        updateKey: maskedToken,
      });
      reply.type(rendered.contentType);
      return rendered.body;
    },
  );

  app.get('/profiles', async () => ({
    profiles: [...declarations.profiles.values()].map((p) => ({
      name: p.name,
      os: p.os,
      channel: p.channel ?? p.stream,
      version: p.version,
      arch: p.arch,
      mode: p.mode,
      config: p.config,
    })),
    problems: declarations.problems,
  }));

  app.get<{ Params: { name: string } }>('/profiles/:name', async (request) => {
    const profile = declarations.profiles.get(request.params.name);
    if (!profile)
      throw new KindlingError('PROFILE_UNKNOWN', `there is no profile "${request.params.name.slice(0, 64)}"`);
    return { profile };
  });

  app.get<{ Querystring: { mac?: string; limit?: string } }>('/events', async (request, reply) => {
    const mac = request.query.mac ? macParam(request.query.mac) : undefined;
    if (!(request.headers.accept ?? '').includes('text/event-stream')) {
      return { events: inventory.recentEvents(mac, Math.min(Number(request.query.limit) || 200, 2000)) };
    }
    // Server-sent events: the page's live table, without polling. A client that stops
    // reading would make Node buffer every event for it: past streamBufferBytes it is
    // dropped (the page reconnects and reloads the table), and streams are capped.
    const owner = request.adminSession?.id ?? 'bearer';
    const mine = [...streams.values()].filter((o) => o === owner).length;
    if (streams.size >= maxStreams || mine >= maxStreamsPerSession) {
      throw new KindlingError(
        'REQUEST_INVALID',
        `too many open event streams (${mine} for this session, ${streams.size} in all; at ` +
          `most ${maxStreamsPerSession} and ${maxStreams}); close another page first`,
      );
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': kindling events\n\n');
    const write = (text: string) => {
      if (res.writableLength > streamBufferBytes) {
        request.log.warn({ buffered: res.writableLength }, 'event stream dropped: the client stopped reading');
        res.destroy();
        return;
      }
      res.write(text);
    };
    const send = (event: { mac: string }) => {
      if (!mac || event.mac === mac) write(`data: ${JSON.stringify(event)}\n\n`);
    };
    const keepAlive = setInterval(() => write(': ping\n\n'), 25_000);
    inventory.events.on('event', send);
    // Mirror progress rides the same stream as named events (the page's onmessage sees
    // only machine events); a meter sends at most two a second per file (progress.ts).
    const mirrorEvents = deps.mirror?.events;
    const named = (name: string) => (data: unknown) => write(`event: ${name}\ndata: ${JSON.stringify(data ?? {})}\n\n`);
    const mirrorListeners = {
      progress: named('mirror-progress'),
      outcome: named('mirror-outcome'),
      idle: named('mirror-idle'),
    };
    if (!mac) for (const [event, listener] of Object.entries(mirrorListeners)) mirrorEvents?.on(event, listener);
    streams.set(res, owner);
    res.on('close', () => {
      clearInterval(keepAlive);
      inventory.events.off('event', send);
      for (const [event, listener] of Object.entries(mirrorListeners)) mirrorEvents?.off(event, listener);
      streams.delete(res);
    });
  });

  // An open page holds its stream forever; end them so shutdown does not wait on it.
  app.addHook('preClose', async () => {
    for (const res of streams.keys()) res.end();
  });
}
