import { spawn } from 'node:child_process';
import { lifecycle, openRackInBox, walk, type Walk } from './support/scenario.js';
import type { Firmware } from './support/vm.js';

// `npm run lab` (root, QEMU, the Debian packages of .ci/run): the e2e rack for a person
// to watch. Kindling in full DHCP mode plus three machines named as in the seed guides,
// a-coreos (SeaBIOS + iPXE ROM), b-coreos (OVMF, EDK2's PXE) and c-coreos (SeaBIOS),
// booting, installing the stand-in OS and rebooting from their disks. The setup page and
// API are forwarded to http://127.0.0.1:LAB_PORT/ (default 8080) on this machine's
// loopback only. Ctrl-C stops everything and removes the namespaces.
//   npm run lab                 the three machines
//   LAB_PORT=9090 npm run lab   another local port

const port = Number(process.env['LAB_PORT'] ?? 8080);
const machines: Array<{ name: string; mac: string; firmware: Firmware }> = [
  { name: 'a-coreos', mac: '52:54:00:55:1c:ee', firmware: 'bios' },
  { name: 'b-coreos', mac: '52:54:00:47:51:e4', firmware: 'uefi' },
  { name: 'c-coreos', mac: '52:54:00:c3:2f:0a', firmware: 'bios' },
];

const box = await openRackInBox({ dhcp: 'full', keepWorkDir: true });
const forward = spawn(
  'socat',
  [
    `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
    `EXEC:ip netns exec ${box.rack.serverNs} socat STDIO TCP\\:${box.rack.serverIp}\\:80`,
  ],
  { stdio: 'ignore' },
);
// rack.ts removes the namespaces on SIGINT and exits; the forwarder lives outside them.
process.on('exit', () => forward.kill());
const stop = async () => {
  forward.kill();
  await box.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

const token = box.kindling.dataDir + '/state/admin-token';
box.log(`setup page: http://127.0.0.1:${port}/  (admin token in ${token})`);
box.log(`serial consoles and Kindling's log: ${box.workDir}`);
if (box.mirrorMissing) box.log(`no installs: ${box.mirrorMissing}`);

const results = await Promise.allSettled(
  machines.map((m) => {
    const vm = box.startVm(m.name, m.mac, m.firmware, 'network-first');
    return walk(box, vm, m.name, { timeoutMs: 20 * 60_000 });
  }),
);
for (const r of results) {
  if (r.status === 'fulfilled') {
    const w: Walk = r.value;
    box.log(`${w.name}: ${lifecycle.map((s) => `${s} +${(w.seen.get(s) ?? NaN).toFixed(0)}s`).join(', ')}`);
  } else {
    box.log(`FAILED: ${(r.reason as Error).message}`);
  }
}
box.log('all machines done; Ctrl-C stops the rack and removes it');
