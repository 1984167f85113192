// A structural validator for the Ignition configs Kindling serves, specs 3.3.0 and
// 2.3.0, run in process on every config (rendered or templated) before it leaves.
// It follows the spec pages' required keys and types:
// https://coreos.github.io/ignition/configuration-v3_3/ and
// https://github.com/coreos/ignition/blob/spec2x/doc/configuration-v2_3.md
// plus the checks ignition-validate makes that break a boot: unknown keys (a typo
// silently does nothing), duplicate paths, units and users, malformed data URLs.
// The real ignition-validate runs on rendered configs in the tests.

type Spec = 3 | 2;
type Json = Record<string, unknown>;

export const supportedIgnitionVersions = [
  '3.0.0',
  '3.1.0',
  '3.2.0',
  '3.3.0',
  '2.0.0',
  '2.1.0',
  '2.2.0',
  '2.3.0',
] as const;

const keys: Record<Spec, Record<string, readonly string[]>> = {
  3: {
    root: ['ignition', 'storage', 'systemd', 'passwd', 'kernelArguments'],
    ignition: ['version', 'config', 'timeouts', 'security', 'proxy'],
    passwd: ['users', 'groups'],
    user: [
      'name',
      'passwordHash',
      'sshAuthorizedKeys',
      'uid',
      'gecos',
      'homeDir',
      'noCreateHome',
      'primaryGroup',
      'groups',
      'noUserGroup',
      'noLogInit',
      'shell',
      'system',
      'shouldExist',
    ],
    storage: ['disks', 'raid', 'filesystems', 'files', 'directories', 'links', 'luks'],
    disk: ['device', 'wipeTable', 'partitions'],
    partition: [
      'label',
      'number',
      'sizeMiB',
      'startMiB',
      'typeGuid',
      'guid',
      'wipePartitionEntry',
      'shouldExist',
      'resize',
    ],
    filesystem: ['device', 'format', 'path', 'wipeFilesystem', 'label', 'uuid', 'options', 'mountOptions'],
    file: ['path', 'overwrite', 'contents', 'append', 'mode', 'user', 'group'],
    contents: ['compression', 'httpHeaders', 'source', 'verification'],
    systemd: ['units'],
    unit: ['name', 'enabled', 'mask', 'contents', 'dropins'],
  },
  2: {
    root: ['ignition', 'storage', 'systemd', 'networkd', 'passwd'],
    ignition: ['version', 'config', 'timeouts', 'security'],
    passwd: ['users', 'groups'],
    user: [
      'name',
      'passwordHash',
      'sshAuthorizedKeys',
      'uid',
      'gecos',
      'homeDir',
      'noCreateHome',
      'primaryGroup',
      'groups',
      'noUserGroup',
      'noLogInit',
      'shell',
      'system',
      'create',
    ],
    storage: ['disks', 'raid', 'filesystems', 'files', 'directories', 'links'],
    disk: ['device', 'wipeTable', 'partitions'],
    partition: [
      'label',
      'number',
      'sizeMiB',
      'startMiB',
      'size',
      'start',
      'typeGuid',
      'guid',
      'wipePartitionEntry',
      'shouldExist',
    ],
    filesystem: ['name', 'mount', 'path'],
    mount: ['device', 'format', 'wipeFilesystem', 'label', 'uuid', 'options', 'create'],
    file: ['filesystem', 'path', 'overwrite', 'append', 'contents', 'mode', 'user', 'group'],
    contents: ['compression', 'source', 'verification'],
    systemd: ['units'],
    unit: ['name', 'enable', 'enabled', 'mask', 'contents', 'dropins'],
  },
};

const formats: Record<Spec, readonly string[]> = {
  3: ['ext4', 'btrfs', 'xfs', 'vfat', 'swap', 'none'],
  2: ['ext4', 'btrfs', 'xfs', 'vfat', 'swap'],
};
const unitNamePattern =
  /^[^/\s]+\.(service|socket|device|mount|automount|swap|target|path|timer|snapshot|slice|scope)$/;
const urlSchemes = ['http:', 'https:', 'tftp:', 's3:', 'gs:', 'arn:', 'data:'];

/** Every problem found, each naming its JSON path; an empty list means valid. */
export function validateIgnition(config: unknown): string[] {
  const problems: string[] = [];
  const add = (path: string, message: string) => problems.push(`${path}: ${message}`);
  if (!isObject(config)) return ['config: expected a JSON object'];
  const ignition = config.ignition;
  const version = isObject(ignition) ? ignition.version : undefined;
  if (typeof version !== 'string') return ['ignition.version: required, expected a string such as "3.3.0"'];
  if (!(supportedIgnitionVersions as readonly string[]).includes(version))
    return [`ignition.version: expected one of ${supportedIgnitionVersions.join(', ')}, found "${version}"`];
  const spec: Spec = version.startsWith('3.') ? 3 : 2;
  const known = keys[spec];
  const v = new Walker(spec, known, add);

  v.keys(config, 'root', '');
  v.keys(ignition as Json, 'ignition', 'ignition');
  v.section(config.passwd, 'passwd', 'passwd', (passwd) => v.users(passwd.users));
  v.section(config.storage, 'storage', 'storage', (storage) => {
    v.disks(storage.disks);
    v.filesystems(storage.filesystems);
    v.files(storage.files);
  });
  v.section(config.systemd, 'systemd', 'systemd', (systemd) => v.units(systemd.units));
  return problems;
}

class Walker {
  constructor(
    private readonly spec: Spec,
    private readonly known: Record<string, readonly string[]>,
    private readonly add: (path: string, message: string) => void,
  ) {}

  keys(o: Json, kind: string, path: string): void {
    const allowed = this.known[kind] ?? [];
    for (const k of Object.keys(o))
      if (!allowed.includes(k))
        this.add(join(path, k), `unknown key for spec ${this.spec}.x ${kind} (expected one of ${allowed.join(', ')})`);
  }

  section(value: unknown, kind: string, path: string, then: (o: Json) => void): void {
    if (value === undefined) return;
    if (!isObject(value)) return this.add(path, 'expected an object');
    this.keys(value, kind, path);
    then(value);
  }

  list(value: unknown, path: string, each: (o: Json, p: string) => void): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) return this.add(path, 'expected a list');
    value.forEach((item, i) => {
      const p = `${path}[${i}]`;
      if (isObject(item)) each(item, p);
      else this.add(p, 'expected an object');
    });
  }

  users(value: unknown): void {
    const seen = new Map<string, string>();
    this.list(value, 'passwd.users', (u, p) => {
      this.keys(u, 'user', p);
      if (typeof u.name !== 'string' || u.name === '') this.add(`${p}.name`, 'required, expected a non-empty string');
      else this.unique(seen, u.name, `${p}.name`, 'user');
      this.strings(u.sshAuthorizedKeys, `${p}.sshAuthorizedKeys`);
      this.strings(u.groups, `${p}.groups`);
      this.optional(u.passwordHash, 'string', `${p}.passwordHash`);
    });
  }

  disks(value: unknown): void {
    const seen = new Map<string, string>();
    this.list(value, 'storage.disks', (d, p) => {
      this.keys(d, 'disk', p);
      if (this.absolute(d.device, `${p}.device`, true)) this.unique(seen, d.device as string, `${p}.device`, 'disk');
      this.optional(d.wipeTable, 'boolean', `${p}.wipeTable`);
      const labels = new Map<string, string>();
      const numbers = new Map<string, string>();
      this.list(d.partitions, `${p}.partitions`, (part, pp) => {
        this.keys(part, 'partition', pp);
        for (const k of ['number', 'sizeMiB', 'startMiB', 'size', 'start']) this.count(part[k], `${pp}.${k}`);
        if (part.label !== undefined) {
          if (typeof part.label !== 'string' || part.label.length > 36)
            this.add(`${pp}.label`, 'expected a string of at most 36 characters');
          else this.unique(labels, part.label, `${pp}.label`, 'partition label');
        }
        if (typeof part.number === 'number' && part.number > 0)
          this.unique(numbers, String(part.number), `${pp}.number`, 'partition number');
      });
      this.overlaps(d.partitions, `${p}.partitions`);
    });
  }

  /** Partitions placed explicitly (a start and a size, both non-zero) must not overlap, as ignition-validate checks. */
  private overlaps(value: unknown, path: string): void {
    if (!Array.isArray(value)) return;
    const placed = value
      .map((p, i) => ({ i, start: isObject(p) ? p.startMiB : undefined, size: isObject(p) ? p.sizeMiB : undefined }))
      .filter(
        (p): p is { i: number; start: number; size: number } =>
          typeof p.start === 'number' && p.start > 0 && typeof p.size === 'number' && p.size > 0,
      );
    for (const [n, a] of placed.entries())
      for (const b of placed.slice(n + 1))
        if (a.start < b.start + b.size && b.start < a.start + a.size)
          this.add(
            `${path}[${b.i}]`,
            `overlaps ${path}[${a.i}] (MiB ${a.start}..${a.start + a.size} and ${b.start}..${b.start + b.size})`,
          );
  }

  filesystems(value: unknown): void {
    const seen = new Map<string, string>();
    this.list(value, 'storage.filesystems', (fs, p) => {
      this.keys(fs, 'filesystem', p);
      if (this.spec === 3) {
        if (this.absolute(fs.device, `${p}.device`, true))
          this.unique(seen, fs.device as string, `${p}.device`, 'filesystem device');
        this.format(fs.format, `${p}.format`, false);
        this.absolute(fs.path, `${p}.path`, false);
        this.strings(fs.mountOptions, `${p}.mountOptions`);
      } else {
        if (fs.mount === undefined && fs.path === undefined) this.add(p, 'expected mount or path');
        this.absolute(fs.path, `${p}.path`, false);
        this.section(fs.mount, 'mount', `${p}.mount`, (m) => {
          if (this.absolute(m.device, `${p}.mount.device`, true))
            this.unique(seen, m.device as string, `${p}.mount.device`, 'filesystem device');
          this.format(m.format, `${p}.mount.format`, true);
        });
      }
      this.optional(fs.label, 'string', `${p}.label`);
      this.optional(fs.wipeFilesystem, 'boolean', `${p}.wipeFilesystem`);
    });
  }

  files(value: unknown): void {
    const seen = new Map<string, string>();
    this.list(value, 'storage.files', (f, p) => {
      this.keys(f, 'file', p);
      if (this.spec === 2 && (typeof f.filesystem !== 'string' || f.filesystem === ''))
        this.add(`${p}.filesystem`, 'required in spec 2.x, expected a filesystem name such as "root"');
      if (this.absolute(f.path, `${p}.path`, true))
        this.unique(
          seen,
          `${this.spec === 2 ? `${String(f.filesystem)}:` : ''}${f.path as string}`,
          `${p}.path`,
          'file path',
        );
      if (
        f.mode !== undefined &&
        !(Number.isInteger(f.mode) && (f.mode as number) >= 0 && (f.mode as number) <= 0o7777)
      )
        this.add(`${p}.mode`, `expected a decimal integer mode such as 420 (0644), found ${JSON.stringify(f.mode)}`);
      this.optional(f.overwrite, 'boolean', `${p}.overwrite`);
      let source: unknown;
      this.section(f.contents, 'contents', `${p}.contents`, (c) => {
        source = c.source;
        this.source(c.source, `${p}.contents.source`);
      });
      // Spec 3.x: "contents.source must be specified if overwrite is true".
      if (this.spec === 3 && f.overwrite === true && (source === undefined || source === null))
        this.add(`${p}.contents.source`, 'required when overwrite is true');
    });
  }

  units(value: unknown): void {
    const seen = new Map<string, string>();
    this.list(value, 'systemd.units', (u, p) => {
      this.keys(u, 'unit', p);
      if (typeof u.name !== 'string' || !unitNamePattern.test(u.name))
        this.add(
          `${p}.name`,
          `expected a unit name with a unit type suffix such as "docker.service", found ${JSON.stringify(u.name)}`,
        );
      else this.unique(seen, u.name, `${p}.name`, 'unit');
      for (const k of ['enabled', 'enable', 'mask']) this.optional(u[k], 'boolean', `${p}.${k}`);
      this.optional(u.contents, 'string', `${p}.contents`);
      const dropins = new Map<string, string>();
      this.list(u.dropins, `${p}.dropins`, (d, dp) => {
        if (typeof d.name !== 'string' || !/^[^/]+\.conf$/.test(d.name))
          this.add(`${dp}.name`, `expected a drop-in name ending in .conf, found ${JSON.stringify(d.name)}`);
        else this.unique(dropins, d.name, `${dp}.name`, 'drop-in');
        this.optional(d.contents, 'string', `${dp}.contents`);
      });
    });
  }

  private source(value: unknown, path: string): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') return this.add(path, 'expected a URL string');
    if (value.startsWith('data:')) {
      const problem = dataUrlProblem(value);
      if (problem) this.add(path, problem);
      return;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.add(path, `expected a URL, found ${JSON.stringify(value.slice(0, 60))}`);
    }
    if (!urlSchemes.includes(url.protocol))
      this.add(path, `unsupported URL scheme ${url.protocol} (expected one of ${urlSchemes.join(' ')})`);
  }

  private format(value: unknown, path: string, required: boolean): void {
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || !formats[this.spec].includes(value))
      this.add(path, `expected one of ${formats[this.spec].join(', ')}, found ${JSON.stringify(value)}`);
  }

  private absolute(value: unknown, path: string, required: boolean): boolean {
    if (value === undefined && !required) return false;
    if (typeof value === 'string' && value.startsWith('/')) return true;
    this.add(
      path,
      value === undefined
        ? 'required, expected an absolute path'
        : `expected an absolute path, found ${JSON.stringify(value)}`,
    );
    return false;
  }

  private count(value: unknown, path: string): void {
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0))
      this.add(path, `expected a non-negative integer, found ${JSON.stringify(value)}`);
  }

  private strings(value: unknown, path: string): void {
    if (value !== undefined && !(Array.isArray(value) && value.every((s) => typeof s === 'string')))
      this.add(path, 'expected a list of strings');
  }

  private optional(value: unknown, type: 'string' | 'boolean', path: string): void {
    if (value !== undefined && typeof value !== type)
      this.add(path, `expected a ${type}, found ${JSON.stringify(value)}`);
  }

  private unique(seen: Map<string, string>, key: string, path: string, what: string): void {
    const first = seen.get(key);
    if (first !== undefined) this.add(path, `duplicate ${what} ${JSON.stringify(key)} (first at ${first})`);
    else seen.set(key, path);
  }
}

/** RFC 2397: data:[<mediatype>][;base64],<data>, the data URL-encoded or base64. */
export function dataUrlProblem(url: string): string | null {
  const comma = url.indexOf(',');
  if (comma < 0) return 'malformed data URL: no "," before the data';
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  const params = meta === '' ? [] : meta.split(';');
  const base64 = params.at(-1) === 'base64';
  if (base64) params.pop();
  if (
    params.length > 0 &&
    params[0] !== '' &&
    !/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(params[0] as string)
  )
    return `malformed data URL: media type ${JSON.stringify(params[0])}`;
  for (const p of params.slice(1))
    if (!/^[^=]+=.*$/.test(p)) return `malformed data URL: parameter ${JSON.stringify(p)}`;
  if (base64)
    return /^[A-Za-z0-9+/]*={0,2}$/.test(data) && data.length % 4 === 0
      ? null
      : 'malformed data URL: invalid base64 data';
  if (/%(?![0-9A-Fa-f]{2})/.test(data)) return 'malformed data URL: "%" not followed by two hex digits';
  if (/[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/.test(data))
    return 'malformed data URL: characters that must be percent-encoded';
  return null;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
