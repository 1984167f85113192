import path from 'node:path';
import { loadConfig } from './config/index.js';
import { isKindlingError } from './errors.js';
import { Declarations, type Profile } from './inventory/index.js';
import { renderInstallConfig, renderTargetConfig, type RenderContext } from './render/index.js';

// `kindling check`: everything `serve` would refuse or report, found before it runs.
// Each profile is rendered for every machine that uses it (with that machine's name
// and variables), or for a sample machine when none does.

const sampleMachine = {
  mac: '52:54:00:00:00:01',
  name: 'sample-node',
  ip: '10.77.0.50',
  vars: {} as Record<string, string>,
};

export async function checkAll(configFile: string | null): Promise<string[]> {
  let config;
  try {
    config = loadConfig(configFile).config;
  } catch (err) {
    return [describe(err)];
  }
  const declarations = new Declarations(path.join(config.dataDir, 'config'));
  const problems = declarations.reload().map((p) => p.message);
  const unknown = config.machines.unknown;
  if (unknown !== 'wait' && !declarations.profiles.has(unknown.profile)) {
    problems.push(
      `${configFile ?? '(embedded defaults)'}: key "machines.unknown.profile": there is no profile ` +
        `"${unknown.profile}" in ${path.join(config.dataDir, 'config', 'profiles')}`,
    );
  }
  for (const profile of declarations.profiles.values()) {
    const users = declarations.machines.filter((m) => m.profile === profile.name);
    const targets =
      users.length > 0
        ? users.map((m) => ({
            mac: m.mac,
            name: m.name ?? m.mac.replace(/:/g, '-'),
            ip: m.ip ?? sampleMachine.ip,
            vars: m.vars,
          }))
        : [sampleMachine];
    for (const machine of targets) problems.push(...renderProblems(profile, machine));
  }
  return problems;
}

function renderProblems(profile: Profile, machine: typeof sampleMachine): string[] {
  const ctx: RenderContext = { ...machine, serverUrl: 'http://10.77.0.1', token: 'check-token' };
  const where = `profile ${profile.name} rendered for ${machine.name} (${machine.mac})`;
  const problems: string[] = [];
  for (const render of profile.mode === 'install' ? [renderTargetConfig, renderInstallConfig] : [renderTargetConfig]) {
    try {
      render(profile, ctx);
    } catch (err) {
      problems.push(`${where}: ${describe(err)}`);
    }
  }
  return problems;
}

function describe(err: unknown): string {
  return isKindlingError(err) ? `${err.message} [${err.code}]` : `unexpected error: ${(err as Error).message}`;
}
