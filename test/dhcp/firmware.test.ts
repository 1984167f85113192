// Real UEFI firmware against Kindling: OVMF's own EDK2 PXE client (the NIC's iPXE
// option ROM removed) boots under QEMU with TCG (docs/decisions.md, "The rack in a
// box": KVM on a tap dropped DHCP here) on a tap in a test namespace, and must take Kindling's offer, REQUEST,
// and get snponly.efi. Runs only where qemu-system-x86 and ovmf are installed.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../support/netns.js';
import { sleep, startKindling, tempDir, type KindlingProcess } from './support/peers.js';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const hasQemu = (() => {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return existsSync(OVMF_CODE) && existsSync(OVMF_VARS);
  } catch {
    return false;
  }
})();

describe.skipIf(!canUseNetns() || !hasQemu)('UEFI firmware (OVMF EDK2 PXE under QEMU)', () => {
  let pair: NetnsPair | null = null;
  let kindling: KindlingProcess | null = null;
  const dir = tempDir('dhcp-firmware');
  afterAll(async () => {
    await kindling?.stop('SIGKILL');
    pair?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the full-mode offer, is acknowledged, and is told snponly.efi', async () => {
    pair = createNetnsPair();
    const octet = pair.server.ip.split('.')[2];
    const ip = `10.201.${octet}.1`;
    const ns = pair.server.ns;
    pair.exec(ns, 'ip', ['tuntap', 'add', 'dev', 'kfwtap', 'mode', 'tap']);
    pair.exec(ns, 'ip', ['link', 'set', 'kfwtap', 'up']);
    pair.exec(ns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'kfwtap']);
    kindling = await startKindling(
      { ...pair, server: { ...pair.server, ip, dev: 'kfwtap' } },
      {
        dhcp: {
          mode: 'full',
          interface: 'kfwtap',
          range: { start: `10.201.${octet}.100`, end: `10.201.${octet}.150` },
          router: ip,
          dns: [ip],
        },
        dataDir: path.join(dir, 'data'),
        probeTimeoutMs: 500,
      },
    );
    const vars = path.join(dir, 'vars.fd');
    copyFileSync(OVMF_VARS, vars);
    const qemu = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'qemu-system-x86_64',
        '-accel',
        'tcg',
        '-m',
        '256',
        '-display',
        'none',
        '-serial',
        'none',
        '-monitor',
        'none',
        '-netdev',
        'tap,id=n0,ifname=kfwtap,script=no,downscript=no',
        '-device',
        'virtio-net-pci,netdev=n0,mac=52:54:00:00:fe:07,romfile=',
        '-boot',
        'n',
        '-drive',
        `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
        '-drive',
        `if=pflash,format=raw,file=${vars}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      // OVMF under TCG reaches its PXE client in 5-30 s; the ACK follows the offer by ~4 s.
      const deadline = Date.now() + 120_000;
      let leases = 0;
      while (Date.now() < deadline) {
        kindling.child.kill('SIGUSR2');
        await sleep(1000);
        leases = Number(kindling.status?.leases ?? 0);
        if (leases > 0) break;
      }
      expect(leases).toBe(1);
      expect(kindling.events).toEqual([
        {
          mac: '52:54:00:00:fe:07',
          arch: 7,
          vendorClass: 'PXEClient:Arch:00007:UNDI:003000',
          userClass: null,
          ip: `10.201.${octet}.100`,
          bootFile: 'snponly.efi',
          mode: 'full',
        },
      ]);
    } finally {
      qemu.kill('SIGKILL');
    }
  }, 150_000);
});
