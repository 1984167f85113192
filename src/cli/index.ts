import { parseArgs } from 'node:util';
import { ApiError, Unreachable } from '../api-client/index.js';
import { isKindlingError } from '../errors.js';
import { checkCommand } from './check.js';
import { hostAddressCommand } from './host-address.js';
import { machinesCommand } from './machines.js';
import { mirrorCommand } from './mirror.js';
import { renderCommand } from './render.js';
import { serveCommand } from './serve.js';
import { serviceTarget, type ServiceTarget } from './target.js';
import { usage } from './usage.js';

// The `kindling` command: one file per command beside this one; this file reads the
// arguments, dispatches, and turns every failure into one line a person can act on.

/** Exit -1: keep running (serve). */
export async function runCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      as: { type: 'string' },
      name: { type: 'string' },
      source: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return command || values.help ? 0 : 2;
  }
  const timeout = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!(timeout > 0)) return fail(`--timeout expects seconds above 0, found "${values.timeout}"`, 2);
  let target: ServiceTarget | null = null;
  const service = () => (target = serviceTarget(values.config, timeout));
  try {
    switch (command) {
      case 'serve':
        await serveCommand(values.config);
        return -1;
      case 'check':
        return await checkCommand(values.config);
      case 'machines':
        return await machinesCommand(service(), rest, values.name);
      case 'mirror':
        return await mirrorCommand(service(), rest[0], values.source, rest.slice(1));
      case 'host-address':
        return await hostAddressCommand(rest[0]);
      case 'render':
        return await renderCommand(service(), rest[0], values.as);
      default:
        process.stderr.write(`unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (err) {
    const action = command === 'mirror' && rest[0] === 'sync' ? 'mirror-sync' : 'other';
    // 78 is EX_CONFIG (sysexits.h): kindling.service's RestartPreventExitStatus=78 stops a
    // broken configuration from hiding in a restart loop; the error stays in the journal.
    return fail(explain(err, target, action), isKindlingError(err) && err.code.startsWith('CONFIG_') ? 78 : 1);
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`kindling: ${message}\n`);
  return code;
}

/** One line: what failed, the code the server sent, and where the command looked. */
export function explain(err: unknown, target: ServiceTarget | null, action: 'mirror-sync' | 'other'): string {
  if (err instanceof Unreachable && target) {
    const checkout = target.configFile === null;
    const hint =
      action === 'mirror-sync'
        ? `the mirror syncs inside the service, so start it first ` +
          `(${checkout ? 'kindling serve' : 'systemctl start kindling'}), then run kindling mirror ` +
          `sync again`
        : `is the service running? (${checkout ? 'kindling serve' : 'systemctl status kindling'})`;
    return `no Kindling answers at ${target.url} (${target.where}): ${err.reason}; ${hint}`;
  }
  if (err instanceof ApiError && target) {
    if (err.code === 'HTTP')
      return (
        `${target.url} answered ${err.message}, which is not Kindling's API ` +
        `(${target.where}); is another program listening there?`
      );
    if (err.code === 'AUTH_REQUIRED') {
      const why =
        target.tokenProblem ??
        `the token in ${target.tokenFile} is not the one the service at ${target.url} ` +
          `uses; does it run with dataDir ${target.config.dataDir}?`;
      return `${err.message} [${err.code}]; ${why}`;
    }
    return `${err.message} [${err.code}]`;
  }
  if (isKindlingError(err)) return `${err.message} [${err.code}]`;
  return (err as Error).message || String(err);
}
