// Runs one mirror sync in its own process so a test can kill -9 it at a chosen
// moment: argv[2] is JSON { dataDir, source, stopAt }. With stopAt set, the process
// announces the step on stdout and waits there to be killed.
import pino from 'pino';
import { openMirror } from '../../../src/mirror/index.js';

const { dataDir, source, stopAt } = JSON.parse(process.argv[2] as string) as {
  dataDir: string;
  source: never;
  stopAt: string | null;
};
const mirror = await openMirror({
  config: { schedule: null, keep: 2, sources: [source] },
  dataDir,
  logger: pino({ level: 'silent' }),
  retry: { attempts: 1, delayMs: 10 },
  beforeStep: async (step) => {
    if (step !== stopAt) return;
    process.stdout.write(`AT ${step}\n`);
    await new Promise(() => undefined);
  },
});
mirror.events.on('progress', (e: { file: string; bytes: number }) =>
  process.stdout.write(`PROGRESS ${e.file} ${e.bytes}\n`),
);
const outcomes = await mirror.sync();
process.stdout.write(`DONE ${JSON.stringify(outcomes)}\n`);
await mirror.close();
