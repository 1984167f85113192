// iPXE scripts, as pure functions of data. Scripts stay short: people read them on
// the machine page. Settings syntax: https://ipxe.org/cfg and https://ipxe.org/cmd

export type Firmware = 'pcbios' | 'efi';

/** The query string iPXE fills in for `/ipxe`, in iPXE settings syntax. */
export const ipxeQuery = 'mac=${net0/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}&platform=${platform}';

/**
 * `/boot.ipxe`: every iPXE client lands here first and says who it is. A chained script
 * that returns (the UEFI local-disk answer is `exit`) must leave iPXE too, so the
 * firmware moves on to its next boot entry; falling into `:retry` would loop forever.
 */
export function bootstrapScript(serverUrl: string): string {
  return ['#!ipxe', `chain --autofree ${serverUrl}/ipxe?${ipxeQuery} || goto retry`, 'exit', ':retry', 'sleep 10', `chain --autofree ${serverUrl}/boot.ipxe`, ''].join('\n');
}

export interface KernelBoot {
  kernel: string;
  initrds: string[];
  args: string[];
  /** Shown on the console before the kernel loads. */
  banner: string;
}

export function kernelBootScript(boot: KernelBoot): string {
  const initrdNames = boot.initrds.map((_, i) => `initrd${i}`);
  return [
    '#!ipxe',
    `echo ${boot.banner}`,
    ...boot.initrds.map((url, i) => `initrd --name ${initrdNames[i]} ${url}`),
    `kernel ${boot.kernel} ${[...initrdNames.map((n) => `initrd=${n}`), ...boot.args].join(' ')}`,
    'boot',
    '',
  ].join('\n');
}

/**
 * Boot from the local disk. On BIOS, sanboot hands over to the first hard disk.
 * On UEFI, `exit` returns to the firmware, which moves on to its next boot entry.
 */
export function localDiskScript(firmware: Firmware, banner: string): string {
  const handover = firmware === 'efi' ? ['exit'] : ['sanboot --no-describe --drive 0x80 || exit'];
  return ['#!ipxe', `echo ${banner}`, ...handover, ''].join('\n');
}

/** Wait, then ask again: a machine powered on before it is assigned picks up its profile by itself. */
export function waitScript(retryUrl: string, seconds: number, banner: string): string {
  return ['#!ipxe', `echo ${banner}`, `echo Asking again in ${seconds} seconds`, `sleep ${seconds}`, `chain --autofree --replace ${retryUrl}`, ''].join('\n');
}

/** iPXE's `echo` prints the rest of the line; keep it to one printable line. */
export function sanitizeBanner(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/\$\{/g, '$ {').slice(0, 160);
}
