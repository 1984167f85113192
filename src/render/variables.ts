import { KindlingError } from '../errors.js';
import { callbackUrl } from './callbacks.js';
import type { RenderContext } from './node-description.js';

// `{{variable}}` substitution, nothing more: no expressions, no code, no nested
// evaluation (a substituted value is never scanned again), so a profile author cannot
// run anything on the appliance and a machine's vars cannot inject further variables.

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * The variables a template or a node description may use. Built-in facts win over
 * machines.yaml vars of the same name: `mac` is always the machine's MAC.
 *
 * `ip` is defined only when the address is known (a reservation, or the address the
 * request came from). Rendering without one (a preview) makes `{{ip}}` an error
 * rather than an empty string: an empty address in an etcd or kubelet flag fails
 * much later and much less clearly on the node.
 *
 * `running_callback_url` lets a `#!` script template call back itself; it carries the
 * machine's token, which only this machine's config may contain anyway.
 */
export function renderVariables(ctx: RenderContext): Record<string, string> {
  const vars: Record<string, string> = {
    ...ctx.vars,
    name: ctx.name,
    mac: ctx.mac,
    mac_hyphen: ctx.mac.replace(/:/g, '-'),
    server: ctx.serverUrl,
    running_callback_url: callbackUrl(ctx, 'running'),
  };
  if (ctx.ip !== null) vars.ip = ctx.ip;
  else delete vars.ip;
  return vars;
}

/** Replace each `{{name}}` (spaces inside the braces allowed) by its value, escaped by `escape` when given. */
export function substitute(
  text: string,
  vars: Record<string, string>,
  where: string,
  escape: (value: string) => string = (v) => v,
): string {
  return text.replace(placeholder, (_match, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (value === undefined) throw undefinedVariable(name, vars, where);
    return escape(value);
  });
}

/** The variable names a text uses, in order of first use. */
export function variablesUsed(text: string): string[] {
  return [...new Set([...text.matchAll(placeholder)].map((m) => m[1] as string))];
}

function undefinedVariable(name: string, vars: Record<string, string>, where: string): KindlingError {
  const defined = Object.keys(vars).sort();
  const hint = name === 'ip' ? ' (the address is not known: give the machine an ip in machines.yaml)' : '';
  return new KindlingError(
    'TEMPLATE_VARIABLE',
    `${where}: variable {{${name}}} is not defined${hint}; defined: ${defined.join(', ') || '(none)'}`,
    { where, variable: name, defined },
  );
}
