// Regenerates docs/errors.md from src/errors.ts: `npx tsx scripts/errors-doc.ts > docs/errors.md`.
import { errorCodes } from '../src/errors.js';

const rows = Object.entries(errorCodes).map(([code, v]) => `| \`${code}\` | ${v.status} | ${v.summary} |`);
process.stdout.write(
  [
    '# Error codes',
    '',
    'Every error Kindling shows a person carries one of these stable codes: in API answers as',
    '`{ "error": { "code", "message", "details" } }` with the HTTP status below, and in the',
    'log and `kindling check` output as `[CODE]`. The message names the file, key or value',
    'and what was expected. Codes are never reused; `src/errors.test.ts` fails when a code',
    'is missing here (regenerate with `npx tsx scripts/errors-doc.ts > docs/errors.md`).',
    '',
    '| code | HTTP status | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
