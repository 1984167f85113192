import { KindlingError } from '../errors.js';
import { validateIgnition } from './validate-ignition.js';

/** A config as served: what the node fetches from /ignition or /cloud-config. */
export interface RenderedConfig {
  format: ConfigFormat;
  contentType: string;
  body: string;
}

export type ConfigFormat = 'ignition' | 'ignition-v2' | 'cloud-config';

export const contentTypes: Record<ConfigFormat, string> = {
  ignition: 'application/json; charset=utf-8',
  'ignition-v2': 'application/json; charset=utf-8',
  // coreos-cloudinit ignores the type; plain text lets a browser show it.
  'cloud-config': 'text/plain; charset=utf-8',
};

/**
 * The gate every Ignition config passes before it is served: a config that fails
 * validation is never sent half-valid, it is an error naming each problem.
 */
export function servedIgnition(config: object, format: 'ignition' | 'ignition-v2', where: string): RenderedConfig {
  const problems = validateIgnition(config);
  if (problems.length > 0)
    throw new KindlingError(
      'RENDER_INVALID',
      `${where}: the rendered Ignition config is not valid: ${problems.join('; ')}`,
      { where, problems },
    );
  return { format, contentType: contentTypes[format], body: `${JSON.stringify(config, null, 2)}\n` };
}

export function servedCloudConfig(body: string): RenderedConfig {
  return { format: 'cloud-config', contentType: contentTypes['cloud-config'], body };
}
