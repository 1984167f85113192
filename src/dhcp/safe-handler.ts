// The socket loop's guard: whatever a packet does to a handler, the server keeps
// serving. Errors are counted and logged at most once a minute, so a flood of bad
// packets cannot flood the log either.
import type pino from 'pino';
import type { DhcpHandler, Incoming, Outgoing } from './reply.js';

const LOG_EVERY_MS = 60_000;

export function guarded(
  handler: DhcpHandler,
  logger: pino.Logger,
  now: () => number = Date.now,
): DhcpHandler & { readonly failures: number } {
  let failures = 0;
  let lastLog = -Infinity;
  return {
    get failures() {
      return failures;
    },
    async handle(message: Incoming): Promise<Outgoing[]> {
      try {
        return await handler.handle(message);
      } catch (err) {
        failures++;
        if (now() - lastLog >= LOG_EVERY_MS) {
          lastLog = now();
          logger.error(
            { err, from: message.from.address, failures },
            'dhcp: handler failed on a packet; packet dropped',
          );
        }
        return [];
      }
    },
  };
}
