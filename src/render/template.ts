import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { KindlingError } from '../errors.js';
import { runningCallbackUnit, runningCallbackUnitName } from './callbacks.js';
import { substituteAddresses } from './cloud-config.js';
import type { RenderContext } from './node-description.js';
import { servedCloudConfig, servedIgnition, type ConfigFormat, type RenderedConfig } from './rendered-config.js';
import { validateIgnition } from './validate-ignition.js';
import { renderVariables, substitute } from './variables.js';

// Raw templates (a profile's `template:`): `{{variable}}` substitution, then the
// output is checked for its format before anyone gets it. Kindling adds its
// running callback unit unless the template already has one of that name; a `#!`
// script is served as written (it can call back itself with {{running_callback_url}}).

export interface TemplateProfile {
  name: string;
  config: ConfigFormat;
  template: string;
}

/** Characters inside a JSON string: the value's JSON form without its quotes. */
const jsonStringEscape = (value: string): string => JSON.stringify(value).slice(1, -1);

export function renderTemplate(
  profile: TemplateProfile,
  ctx: RenderContext,
  vars: Record<string, string> = renderVariables(ctx),
): RenderedConfig {
  const where = `profile ${profile.name}: template`;
  const isJson = profile.template.trimStart().startsWith('{');
  if (isJson && profile.config === 'cloud-config')
    throw outputError(
      where,
      'the template is Ignition JSON but the profile says config: cloud-config; set config: ignition (or ignition-v2)',
    );
  if (!isJson && profile.config !== 'cloud-config')
    throw outputError(
      where,
      `the template is not Ignition JSON (it does not start with "{") but the profile says ` +
        `config: ${profile.config}; for a cloud-config template set config: cloud-config`,
    );
  return isJson ? ignitionTemplate(profile, ctx, vars, where) : cloudConfigTemplate(profile, ctx, vars, where);
}

function ignitionTemplate(
  profile: TemplateProfile,
  ctx: RenderContext,
  vars: Record<string, string>,
  where: string,
): RenderedConfig {
  const text = substitute(profile.template, vars, where, jsonStringEscape);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw outputError(where, `the output is not JSON: ${(err as Error).message}`);
  }
  const problems = validateIgnition(config);
  if (problems.length > 0)
    throw outputError(where, `the output is not a valid Ignition config: ${problems.join('; ')}`, problems);
  const cfg = config as { ignition: { version: string }; systemd?: { units?: Array<Record<string, unknown>> } };
  const major = cfg.ignition.version.startsWith('3.') ? 'ignition' : 'ignition-v2';
  if (major !== profile.config)
    throw outputError(
      where,
      `ignition.version is ${cfg.ignition.version} but the profile says ` +
        `config: ${profile.config} (ignition is spec 3.x, ignition-v2 is spec 2.x)`,
    );
  const units = cfg.systemd?.units ?? [];
  if (!units.some((u) => u.name === runningCallbackUnitName)) {
    const { name, enabled, contents } = runningCallbackUnit(ctx);
    cfg.systemd = { ...cfg.systemd, units: [...units, { name, enabled, contents }] };
  }
  return servedIgnition(cfg, major, where);
}

/**
 * A value that can stand anywhere in YAML without changing the document's shape: on one
 * line, with no quote, comment, anchor, tag or flow character, and no ": " or " #". A
 * value like "x\nusers: ..." would otherwise add keys to the node's cloud-config.
 */
const yamlSafeValue = /^(?![-?:,[\]{}#&*!|>%@`\s])[^\n\r"'\\#`[\]{}]*$/;

function yamlValue(where: string) {
  return (value: string): string => {
    if (value === '' || (yamlSafeValue.test(value) && !value.includes(': ') && !value.endsWith(':'))) return value;
    throw new KindlingError(
      'TEMPLATE_VARIABLE',
      `${where}: the value ${JSON.stringify(value.slice(0, 80))} cannot go into a cloud-config template ` +
        `as written: it has a line break, a quote or a YAML indicator that would change the document; use ` +
        `letters, digits and . _ - / = , + in machines.yaml vars and names`,
      { where, value: value.slice(0, 80) },
    );
  };
}

function cloudConfigTemplate(
  profile: TemplateProfile,
  ctx: RenderContext,
  vars: Record<string, string>,
  where: string,
): RenderedConfig {
  const text = substituteAddresses(
    substitute(profile.template, vars, where, profile.template.startsWith('#!') ? undefined : yamlValue(where)),
    ctx.ip,
  );
  if (text.startsWith('#!')) return servedCloudConfig(text);
  if (!text.startsWith('#cloud-config'))
    throw outputError(
      where,
      `the output must start with "#cloud-config" (or "#!" for a script), found ${JSON.stringify(text.slice(0, 20))}`,
    );
  const doc = parseDocument(text, { version: '1.1' });
  const problem = doc.errors[0];
  if (problem) throw outputError(where, `the output is not YAML: ${problem.message}`);
  if (doc.contents !== null && !isMap(doc.contents))
    throw outputError(where, 'the output must be a YAML mapping (hostname:, users:, coreos: ...)');
  addRunningUnit(doc, ctx, where);
  const body = doc.toString({ lineWidth: 0 });
  return servedCloudConfig(body.startsWith('#cloud-config') ? body : `#cloud-config\n${body}`);
}

function addRunningUnit(doc: Document, ctx: RenderContext, where: string): void {
  const units = doc.getIn(['coreos', 'units']);
  if (units !== undefined && !isSeq(units)) throw outputError(where, 'coreos.units must be a list');
  const present = isSeq(units) && units.items.some((u) => isMap(u) && u.get('name') === runningCallbackUnitName);
  if (present) return;
  const unit = runningCallbackUnit(ctx);
  const entry = doc.createNode({ name: unit.name, enable: true, command: 'start', content: unit.contents });
  if (isSeq(units)) units.items.push(entry);
  else if (doc.contents === null || doc.get('coreos') === undefined)
    doc.set('coreos', doc.createNode({ units: [entry] }));
  else if (isMap(doc.get('coreos'))) doc.setIn(['coreos', 'units'], doc.createNode([entry]));
  else throw outputError(where, 'coreos must be a mapping');
}

function outputError(where: string, message: string, problems?: string[]): KindlingError {
  return new KindlingError('TEMPLATE_OUTPUT', `${where}: ${message}`, problems ? { where, problems } : { where });
}
