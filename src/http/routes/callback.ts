import type { FastifyInstance } from 'fastify';
import { KindlingError } from '../../errors.js';
import type { MachineState } from '../../inventory/lifecycle.js';
import { clientIp, type HttpDeps } from '../context.js';
import { macParam } from './boot.js';

// Node callbacks: `POST /callback/{installed|running|failed}?mac=&token=`. The token
// is the machine's own for that phase, found only in its rendered config, and works
// once (inventory/callback-tokens.ts); the admin session is never needed. A node
// retries until it hears back, so its repeat with the spent token is answered, unchanged.

const targets: Record<string, MachineState> = { installed: 'installed', running: 'running', failed: 'failed' };

export function callbackRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { inventory } = deps;
  app.post<{ Params: { event: string }; Querystring: { mac?: string; token?: string; reason?: string } }>(
    '/callback/:event',
    async (request) => {
      // Own keys only: `__proto__` or `constructor` must not find Object.prototype's.
      const to = Object.hasOwn(targets, request.params.event) ? targets[request.params.event] : undefined;
      if (!to)
        throw new KindlingError(
          'REQUEST_INVALID',
          `unknown callback "${request.params.event.slice(0, 30)}"; expected installed, running or failed`,
        );
      const mac = macParam(request.query.mac);
      const token = request.query.token ?? '';
      const reason = (request.query.reason ?? '').slice(0, 300);
      const message = to === 'failed' ? `install failed: ${reason || 'no reason given'}` : `node called back: ${to}`;
      const { redemption, machine, changed } = await inventory.callback(mac, token, to, message, {
        ip: clientIp(request),
      });
      if (redemption === 'refused' || !machine) {
        request.log.warn(
          { mac, ip: clientIp(request), callback: to },
          'callback refused: wrong, spent or missing token',
        );
        if (machine)
          inventory.note(
            mac,
            'callback-refused',
            `${to} callback from ${clientIp(request)} refused: wrong, spent or missing token`,
          );
        throw new KindlingError(
          'TOKEN_INVALID',
          `callback for ${mac} refused: the token is missing, already used, or not this machine's`,
          { mac },
        );
      }
      if (changed) request.log.info({ mac, name: machine.name, state: to }, message);
      return { mac, state: machine.state, changed };
    },
  );
}
