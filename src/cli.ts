#!/usr/bin/env node
// The `kindling` command's entry (package.json bin, dist/cli.js on the appliance); the
// commands are in src/cli/.
import { runCli } from './cli/index.js';

let settled = false;
runCli(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    // Bad arguments, or a bug: runCli explains every failure it expects.
    process.stderr.write(`kindling: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
// Node exits when nothing is left to wait for, even with the command unfinished; that
// must never look like success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('kindling: the command stopped before it finished (a request was left without an answer)\n');
  process.exitCode = 1;
});
