export {
  configSchema,
  mirrorSourceSchema,
  ipv4,
  type KindlingConfig,
  type MirrorSource,
  type UnknownMachineRule,
} from './schema.js';
export { loadConfig, parseConfig, type LoadedConfig } from './load.js';
export { checkoutDefaults, applianceConfigPath } from './defaults.js';
export { parseYaml, validate, describeIssues } from './yaml-document.js';
