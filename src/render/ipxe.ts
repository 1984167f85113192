// iPXE scripts, as pure functions of data. Scripts stay short: people read them on
// the machine page. Settings syntax: https://ipxe.org/cfg and https://ipxe.org/cmd

export type Firmware = 'pcbios' | 'efi';

/** The query string iPXE fills in for `/ipxe`, in iPXE settings syntax. */
export const ipxeQuery = 'mac=${net0/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}&platform=${platform}';

/**
 * `/boot.ipxe`: every iPXE client lands here first and says who it is. The answer is
 * fetched and run as two steps so that "could not fetch" (retry) and "the answer
 * returned" (the UEFI local-disk answer) are told apart. When the answer returns,
 * iPXE exits with an error status: UEFI firmware moves on to its next boot entry
 * only when a boot option fails; a success drops into the boot manager menu.
 */
export function bootstrapScript(serverUrl: string): string {
  return [
    '#!ipxe',
    `imgfetch --name kindling ${serverUrl}/ipxe?${ipxeQuery} || goto retry`,
    'imgexec kindling',
    'exit 1',
    ':retry',
    'sleep 10',
    `chain --autofree ${serverUrl}/boot.ipxe`,
    '',
  ].join('\n');
}

/**
 * A boot plan as this renderer needs it (src/inventory/boot-plan.ts makes them): kernel
 * and initrds, the local disk, or wait and ask again. Banners are raw text.
 */
export type ScriptPlan =
  | { kind: 'wait'; banner: string; retry: { url: string; seconds: number } }
  | { kind: 'install' | 'live'; banner: string; kernel: string; initrds: readonly string[]; args: readonly string[] }
  | { kind: 'local-disk'; banner: string; firmware: Firmware };

/** The iPXE script for a plan: the one place a plan becomes iPXE text. */
export function renderBootPlan(plan: ScriptPlan): string {
  const banner = sanitizeBanner(plan.banner);
  switch (plan.kind) {
    case 'wait':
      return waitScript(`${plan.retry.url}?${ipxeQuery}`, plan.retry.seconds, banner);
    case 'local-disk':
      return localDiskScript(plan.firmware, banner);
    case 'install':
    case 'live':
      return kernelBootScript({ kernel: plan.kernel, initrds: plan.initrds, args: plan.args, banner });
  }
}

export interface KernelBoot {
  kernel: string;
  initrds: readonly string[];
  args: readonly string[];
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
 * On UEFI, `exit 1` returns to the firmware with an error status, so its boot manager
 * tries the next boot entry (the disk) instead of showing its menu, which is what
 * EDK2 and most vendors' firmware do after a success (ipxe.org/cmd/exit).
 */
export function localDiskScript(firmware: Firmware, banner: string): string {
  const handover = firmware === 'efi' ? ['exit 1'] : ['sanboot --no-describe --drive 0x80 || exit 1'];
  return ['#!ipxe', `echo ${banner}`, ...handover, ''].join('\n');
}

/** Wait, then ask again: a machine powered on before it is assigned picks up its profile by itself. */
export function waitScript(retryUrl: string, seconds: number, banner: string): string {
  return [
    '#!ipxe',
    `echo ${banner}`,
    `echo Asking again in ${seconds} seconds`,
    `sleep ${seconds}`,
    `chain --autofree --replace ${retryUrl}`,
    '',
  ].join('\n');
}

/** iPXE's `echo` prints the rest of the line; keep it to one printable line. */
export function sanitizeBanner(text: string): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\$\{/g, '$ {')
    .slice(0, 160);
}
