import type { RenderFormat } from '../api-client/index.js';
import { parseMac } from '../inventory/mac.js';
import type { ServiceTarget } from './target.js';

/** `kindling render MAC --as FORMAT`: what the machine would get now, secrets masked. */
export async function renderCommand(target: ServiceTarget, macArg: string | undefined, as = 'ipxe'): Promise<number> {
  // The server checks `as` and names the formats it knows when it is wrong.
  const rendered = await target.client.render(parseMac(macArg ?? ''), as as RenderFormat);
  // Ignition is one line of JSON as served; a person reads it indented.
  let shown = rendered;
  if (as === 'ignition') {
    try {
      shown = `${JSON.stringify(JSON.parse(rendered), null, 2)}\n`;
    } catch {
      /* not JSON: show as served */
    }
  }
  process.stdout.write(shown);
  return 0;
}
