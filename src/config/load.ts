import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KindlingError } from '../errors.js';
import { checkoutDefaults } from './defaults.js';
import { configSchema, type KindlingConfig } from './schema.js';
import { parseYaml, validate } from './yaml-document.js';

export interface LoadedConfig {
  config: KindlingConfig;
  /** The file read, or null for the embedded checkout defaults. */
  file: string | null;
}

/** Validates configuration data (already parsed) and resolves dataDir against `baseDir`. */
export function parseConfig(data: unknown, file: string, baseDir: string): KindlingConfig {
  const config = validate(configSchema, data, file, 'CONFIG_INVALID');
  config.dataDir = path.resolve(baseDir, config.dataDir);
  if (config.tftp.extraRoot) config.tftp.extraRoot = path.resolve(baseDir, config.tftp.extraRoot);
  return config;
}

/** Reads and validates a configuration file; `null` means the embedded checkout defaults. */
export function loadConfig(file: string | null, cwd = process.cwd()): LoadedConfig {
  if (file === null) return { config: parseConfig(checkoutDefaults, '(embedded defaults)', cwd), file: null };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new KindlingError('CONFIG_READ', `${file}: cannot read the configuration file: ${reason}`, { file });
  }
  return { config: parseConfig(parseYaml(text, file), file, path.dirname(path.resolve(cwd, file))), file };
}
