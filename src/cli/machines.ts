import { parseMac } from '../inventory/mac.js';
import { printJson, table } from './table.js';
import type { ServiceTarget } from './target.js';
import { usage } from './usage.js';

/** `kindling machines list|show|assign|reinstall|forget`. */
export async function machinesCommand(
  target: ServiceTarget,
  args: string[],
  name: string | undefined,
): Promise<number> {
  const { client } = target;
  const [sub = 'list', macArg, profile] = args;
  const mac = () => parseMac(macArg ?? '');
  switch (sub) {
    case 'list': {
      const { machines } = await client.machines();
      const rows = [['MAC', 'NAME', 'STATE', 'PROFILE', 'IP', 'ARCH', 'SINCE']];
      for (const m of machines)
        rows.push([
          m.mac,
          m.name ?? '-',
          m.state,
          m.profile ?? '-',
          m.reservedIp ?? m.facts.lastIp ?? '-',
          m.facts.arch ?? '-',
          m.stateSince,
        ]);
      process.stdout.write(table(rows));
      return 0;
    }
    case 'show':
      printJson(await client.machine(mac()));
      return 0;
    case 'assign':
      if (!profile) throw new Error('usage: kindling machines assign MAC PROFILE [--name NAME]');
      printJson(await client.assign(mac(), profile, name));
      return 0;
    case 'reinstall':
      printJson(await client.reinstall(mac()));
      return 0;
    case 'forget':
      printJson(await client.forget(mac()));
      return 0;
    default:
      throw new Error(`unknown machines command "${sub}"\n\n${usage}`);
  }
}
