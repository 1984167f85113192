import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Files under `dir` (node_modules skipped) whose names match `name`, as full paths. */
export function sourceFiles(dir: string, name: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full, name);
    return name.test(entry) ? [full] : [];
  });
}
