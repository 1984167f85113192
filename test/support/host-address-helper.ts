import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NetnsPair } from './netns.js';

// The root-side address helper (`kindling host-address apply`) as
// kindling-host-address.service runs it, for tests of the Pi's own address: its
// NetworkManager is test/fixtures/nm-standin/nmcli, which sets the address of the
// pair's server-side veth with ip(8), and its systemctl only records what it was asked.

const root = path.resolve(import.meta.dirname, '../..');

export interface HostAddressRig {
  /**
   * Kindling's configuration as kindling-firstboot leaves a rack with no DHCP server:
   * full DHCP on the pair's server side, server.advertise pinned to its address, and the
   * page allowed to set that address through this helper.
   */
  kindlingConfig: Record<string, unknown>;
  /** The stand-in NetworkManager's saved profile: "manual 10.200.1.1/24". */
  profileFile: string;
  systemctlLog: string;
  /** Runs the helper once, as the path unit would on a new request; resolves when it ends. */
  run(dataDir: string): Promise<{ code: number | null; out: string }>;
  remove(): void;
}

export function hostAddressRig(pair: NetnsPair): HostAddressRig {
  const work = mkdtempSync(path.join(tmpdir(), 'kindling-host-address-'));
  const profileFile = path.join(work, 'profile');
  const systemctlLog = path.join(work, 'systemctl.log');
  const statusFile = path.join(work, 'run', 'status.json');
  writeFileSync(profileFile, `manual ${pair.server.ip}/24\n`);
  writeFileSync(path.join(work, 'systemctl'), `#!/bin/sh\necho "$@" >>"${systemctlLog}"\n`);
  chmodSync(path.join(work, 'systemctl'), 0o755);
  const net = pair.server.ip.split('.').slice(0, 3).join('.');
  return {
    kindlingConfig: {
      http: { listen: '0.0.0.0', port: 0, httpsPort: 0 },
      server: { advertise: pair.server.ip, interface: pair.server.dev, hostAddress: { manage: true, statusFile } },
      dhcp: {
        mode: 'full',
        interface: pair.server.dev,
        range: { start: `${net}.100`, end: `${net}.150` },
        router: pair.server.ip,
        dns: [pair.server.ip],
      },
    },
    profileFile,
    systemctlLog,
    run: (dataDir) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(root, 'src/cli.ts'), 'host-address', 'apply'],
        {
          env: {
            ...process.env,
            KINDLING_HOST_ADDRESS_DIR: path.join(dataDir, 'host-address'),
            KINDLING_HOST_ADDRESS_STATUS: statusFile,
            KINDLING_NMCLI: path.join(root, 'test/fixtures/nm-standin/nmcli'),
            KINDLING_SYSTEMCTL: path.join(work, 'systemctl'),
            STANDIN_NS: pair.server.ns,
            STANDIN_DEV: pair.server.dev,
            STANDIN_PROFILE: profileFile,
            STANDIN_LOG: path.join(work, 'nmcli.log'),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
    },
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}
