import type { NodeFilesystem } from './node-description.js';

// systemd naming and quoting, and the units that make a described filesystem really
// mounted after boot: Ignition formats it but, on Flatcar and Fedora CoreOS, mounting
// it at every boot needs a .mount unit (Ignition's own docs say so:
// https://coreos.github.io/ignition/operator-notes/#filesystem-reuse-semantics and
// https://docs.fedoraproject.org/en-US/fedora-coreos/storage/#_configuring_storage).

/** A drop-in for a unit, as Ignition and cloud-config both carry them. */
export interface Dropin {
  name: string;
  contents: string;
}

/** A unit Kindling puts in a config: the description's, or one it generates. */
export interface PlannedUnit {
  name: string;
  enabled?: boolean | undefined;
  mask?: boolean | undefined;
  contents?: string | undefined;
  dropins?: Dropin[] | undefined;
}

const keptByEscape = /[A-Za-z0-9:_.]/;

/** `systemd-escape --path`: /var/lib/docker -> var-lib-docker (systemd.unit(5), "STRING ESCAPING"). */
export function escapePath(path: string): string {
  const trimmed = path.replace(/\/+/g, '/').replace(/^\/|\/$/g, '');
  if (trimmed === '') return '-';
  let out = '';
  for (const [i, ch] of [...trimmed].entries()) {
    if (ch === '/') out += '-';
    else if (keptByEscape.test(ch) && !(i === 0 && ch === '.')) out += ch;
    else out += [...Buffer.from(ch, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
  return out;
}

export function mountUnitName(path: string): string {
  return `${escapePath(path)}.mount`;
}

export function swapUnitName(device: string): string {
  return `${escapePath(device)}.swap`;
}

/**
 * One argument of an ExecStart= line, double-quoted. `%` starts a specifier and `$`
 * an environment expansion in unit files (systemd.service(5), "COMMAND LINES"), so both are doubled.
 */
export function execArg(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** A value for a shell script, single-quoted. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface MountOptions {
  /** Units the mount must wait for (cloud-config's format service). */
  after?: string[];
}

/** The .mount (or .swap) unit that mounts a described filesystem at every boot. */
export function mountUnitFor(fs: NodeFilesystem, options: MountOptions = {}): PlannedUnit | null {
  const waits = options.after ?? [];
  const order = waits.flatMap((u) => [`Requires=${u}`, `After=${u}`]);
  if (fs.format === 'swap') {
    return {
      name: swapUnitName(fs.device),
      enabled: true,
      contents: [
        '[Unit]',
        `Description=Swap on ${fs.device} (Kindling)`,
        ...order,
        '',
        '[Swap]',
        `What=${fs.device}`,
        '',
        '[Install]',
        'WantedBy=swap.target',
        '',
      ].join('\n'),
    };
  }
  if (fs.path === undefined) return null;
  const fsck = `systemd-fsck@${escapePath(fs.device)}.service`;
  return {
    name: mountUnitName(fs.path),
    enabled: true,
    contents: [
      '[Unit]',
      `Description=Mount ${fs.device} at ${fs.path} (Kindling)`,
      ...order,
      `Requires=${fsck}`,
      `After=${fsck}`,
      'Before=local-fs.target',
      '',
      '[Mount]',
      `What=${fs.device}`,
      `Where=${fs.path}`,
      `Type=${fs.format}`,
      ...(fs.mountOptions.length > 0 ? [`Options=${fs.mountOptions.join(',')}`] : []),
      '',
      '[Install]',
      'WantedBy=local-fs.target',
      '',
    ].join('\n'),
  };
}
