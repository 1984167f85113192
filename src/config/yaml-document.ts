import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { KindlingError, type ErrorCode } from '../errors.js';

/** Parses YAML text, naming the file, line and column of the first syntax error. */
export function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new KindlingError('CONFIG_YAML', `${where}: YAML does not parse: ${first.message.split('\n')[0]}`, { file });
  }
  return doc.toJS();
}

/** One line per problem: "FILE: key a.b.c: what was found and what was expected". */
export function describeIssues(file: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return (
        `${file}: unknown key ${keys.map((k) => `"${k}"`).join(', ')} (check ` +
        `the spelling against docs/configuration.md)`
      );
    }
    const key = path ? `key "${path}"` : 'top level';
    return `${file}: ${key}: ${issue.message}`;
  });
}

/** Validates `data` with `schema`, throwing one error that lists every problem. */
export function validate<T extends z.ZodType>(schema: T, data: unknown, file: string, code: ErrorCode): z.output<T> {
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  const lines = describeIssues(file, result.error.issues);
  throw new KindlingError(code, lines.join('\n'), { file, problems: lines });
}
