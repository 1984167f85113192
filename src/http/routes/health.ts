import type { FastifyInstance } from 'fastify';
import { machineStates } from '../../inventory/lifecycle.js';
import type { HttpDeps } from '../context.js';

// Open to anyone on the network: what runs and what is wrong, never a secret.
export function healthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/healthz', async (request, reply) => {
    // The port this request arrived on is the one bound, even when the config says 0.
    const listen = `${deps.config.http.listen}:${request.socket.localPort ?? deps.config.http.port}`;
    const storage = deps.inventory.storageStatus();
    const services = [
      { name: 'http', state: 'running' as const, detail: 'boot, config and admin routes', listen },
      ...(storage.lastError
        ? [
            {
              name: 'storage',
              state: 'degraded' as const,
              detail:
                `the event history cannot be written (${storage.failures} failed writes; ` +
                `last: ${storage.lastError}); events are kept in memory until it can`,
            },
          ]
        : []),
      ...deps.services(),
    ];
    const problems = deps.declarations.problems;
    const machines = Object.fromEntries(machineStates.map((s) => [s, 0]));
    for (const m of deps.inventory.list()) machines[m.state] = (machines[m.state] ?? 0) + 1;
    const failing = services.some((s) => s.state === 'failed');
    const status = failing
      ? 'failed'
      : problems.length > 0 || services.some((s) => s.state === 'degraded')
        ? 'degraded'
        : 'ok';
    reply.status(failing ? 503 : 200);
    // The certificate is public; a script can pin this fingerprint after checking it on the console.
    const tls = { fingerprint: deps.tls.fingerprint, port: deps.tls.port() };
    return { status, version: deps.version, services, configProblems: problems, machines, tls };
  });
}
