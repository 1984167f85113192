// The render area's one entry point: pure functions from a profile, a node
// description and a machine's facts to the configs and scripts Kindling serves.
export * from './node-description.js';
export * from './os-artifacts.js';
export * from './ipxe.js';
export { renderVariables, substitute, variablesUsed } from './variables.js';
export { renderIgnition3, ignition3Version } from './ignition3.js';
export { renderIgnition2, ignition2Version } from './ignition2.js';
export { renderCloudConfig, substituteAddresses, type CloudConfigExtras } from './cloud-config.js';
export { renderTemplate, type TemplateProfile } from './template.js';
export { validateIgnition, supportedIgnitionVersions } from './validate-ignition.js';
export {
  renderInstallConfig,
  renderTargetConfig,
  flatcarInstallScript,
  installUnitName,
  installScriptPath,
} from './install.js';
export { describeNode, type RenderProfile } from './render-profile.js';
export { contentTypes, type ConfigFormat, type RenderedConfig } from './rendered-config.js';
export { callbackUrl, runningCallbackUnitName, runningCallbackStamp, type CallbackKind } from './callbacks.js';
export { escapePath, mountUnitName, type PlannedUnit, type Dropin } from './systemd.js';
export type { RenderExtras } from './plan.js';
