import { checkAll } from '../check.js';
import { configFileFrom } from './target.js';

/** `kindling check`: the first problem in full, and how many more; exit 1 when any. */
export async function checkCommand(configFlag: string | undefined): Promise<number> {
  const problems = await checkAll(configFileFrom(configFlag));
  if (problems.length === 0) {
    process.stdout.write('configuration, profiles, machines.yaml and templates are valid\n');
    return 0;
  }
  process.stderr.write(`${problems[0]}\n`);
  if (problems.length > 1) process.stderr.write(`(${problems.length - 1} more problem(s) after this one)\n`);
  return 1;
}
