import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Rack } from './rack.js';

// A QEMU machine on the rack's bridge: one virtio NIC (boot entry 1) and one empty
// virtio disk (boot entry 2), its serial console in a file.
//   bios: SeaBIOS with QEMU's iPXE option ROM (ipxe-qemu), which does the PXE boot.
//   uefi: OVMF with the NIC's option ROM disabled (romfile=), so EDK2's own PXE client
//         fetches ipxe.efi by TFTP.

export type Firmware = 'bios' | 'uefi';
export type Accel = 'kvm' | 'tcg';

export interface VmOptions {
  rack: Rack;
  name: string;
  mac: string;
  firmware: Firmware;
  accel: Accel;
  workDir: string;
  memoryMiB?: number;
  diskMiB?: number;
  /**
   * Boot entries: network then disk (the default, as many racks are set up: every boot
   * asks Kindling, which answers "boot from your disk" once installed), or disk then
   * network (a blank disk falls through to the network; an installed one boots by itself).
   */
  bootOrder?: 'network-first' | 'disk-first';
}

export interface Vm {
  name: string;
  mac: string;
  firmware: Firmware;
  bootOrder: 'network-first' | 'disk-first';
  serialFile: string;
  serial(): string;
  running(): boolean;
  stop(): void;
}

export const ovmfCode = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const ovmfVars = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export function startVm(o: VmOptions): Vm {
  const tap = `t${o.name}`.slice(0, 15);
  o.rack.addTap(tap);
  const disk = path.join(o.workDir, `${o.name}.img`);
  execFileSync('truncate', ['-s', `${o.diskMiB ?? 256}M`, disk]);
  const serialFile = path.join(o.workDir, `${o.name}.serial.log`);
  const args = [
    '-name',
    o.name,
    '-accel',
    o.accel,
    '-m',
    String(o.memoryMiB ?? 512),
    '-smp',
    '1',
    '-display',
    'none',
    '-serial',
    `file:${serialFile}`,
    '-monitor',
    'none',
    '-netdev',
    `tap,id=n0,ifname=${tap},script=no,downscript=no`,
    '-drive',
    `file=${disk},if=none,id=d0,format=raw`,
  ];
  const [netIndex, diskIndex] = o.bootOrder === 'disk-first' ? [2, 1] : [1, 2];
  args.push('-device', `virtio-blk-pci,drive=d0,bootindex=${diskIndex}`);
  if (o.firmware === 'bios') {
    args.push('-machine', 'pc', '-device', `virtio-net-pci,netdev=n0,mac=${o.mac},bootindex=${netIndex}`);
  } else {
    const vars = path.join(o.workDir, `${o.name}.vars.fd`);
    copyFileSync(ovmfVars, vars);
    args.push(
      '-machine',
      'q35',
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${ovmfCode}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${vars}`,
      // romfile= : no iPXE ROM, EDK2's own network stack (VirtioNetDxe, PXE) boots.
      '-device',
      `virtio-net-pci,netdev=n0,mac=${o.mac},bootindex=${netIndex},romfile=`,
      // IPv4 PXE only: an IPv6 PXE or HTTP boot attempt that nobody answers only costs time.
      '-fw_cfg',
      'name=opt/org.tianocore/IPv6PXESupport,string=n',
    );
  }
  const child: ChildProcess = o.rack.spawn(o.rack.rackNs, 'qemu-system-x86_64', args);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    name: o.name,
    mac: o.mac,
    firmware: o.firmware,
    bootOrder: o.bootOrder ?? 'network-first',
    serialFile,
    serial: () =>
      (existsSync(serialFile) ? readFileSync(serialFile, 'latin1') : '') + (stderr ? `\n[qemu stderr]\n${stderr}` : ''),
    running: () => child.exitCode === null && child.signalCode === null,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
