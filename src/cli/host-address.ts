import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyHostAddress } from '../system/host-address-helper.js';

// `kindling host-address apply`: the root side of setting the appliance's own address
// from the page, run by kindling-host-address.service (docs/appliance.md). Its paths come
// from the unit's environment, never from kindling.yaml: the unprivileged service may
// write that file, and this runs as root.

const run = promisify(execFile);

export const hostAddressDefaults = {
  dir: '/var/lib/kindling/host-address',
  statusFile: '/run/kindling-host-address/status.json',
  connection: 'kindling-eth0',
};

export async function hostAddressCommand(sub: string | undefined): Promise<number> {
  if (sub !== 'apply') {
    process.stderr.write('usage: kindling host-address apply (run as root by kindling-host-address.service)\n');
    return 2;
  }
  const env = process.env;
  const dir = env.KINDLING_HOST_ADDRESS_DIR ?? hostAddressDefaults.dir;
  const nmcliPath = env.KINDLING_NMCLI ?? 'nmcli';
  const systemctlPath = env.KINDLING_SYSTEMCTL ?? 'systemctl';
  const status = await applyHostAddress({
    requestFile: path.join(dir, 'request.json'),
    confirmFile: path.join(dir, 'confirm.json'),
    statusFile: env.KINDLING_HOST_ADDRESS_STATUS ?? hostAddressDefaults.statusFile,
    connection: env.KINDLING_HOST_ADDRESS_CONNECTION ?? hostAddressDefaults.connection,
    nmcli: async (args) => {
      try {
        return (await run(nmcliPath, args, { timeout: 60_000 })).stdout;
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error((e.stderr ?? '').trim() || e.message, { cause: err });
      }
    },
    restartKindling: async () => {
      // A moment first, so Kindling's answer to the confirmation reaches the page.
      await new Promise((r) => setTimeout(r, 2000));
      await run(systemctlPath, ['--no-block', 'try-restart', 'kindling.service'], { timeout: 30_000 });
    },
  });
  if (status)
    process.stdout.write(`host address ${status.id}: ${status.state}${status.error ? `: ${status.error}` : ''}\n`);
  else process.stdout.write('host address: no request\n');
  return status?.state === 'failed' ? 1 : 0;
}
