// The profile form's model: what the operator edits, as strings where people type
// lists, and its conversion to the profile object the server validates. The server
// runs the same zod schema as the file loader (POST /api/profiles/validate).

import type { MirrorSource } from '../../../src/api-client/types.js';

/** Keys of a profile entry the form has no field for, kept as written so an edit in the form loses none. */
type Rest = Record<string, unknown>;

export interface UserModel {
  name: string;
  groups: string;
  keys: string;
  rest?: Rest;
}
export interface FileModel {
  path: string;
  mode: string;
  contents: string;
  rest?: Rest;
}
export interface UnitModel {
  name: string;
  enabled: boolean;
  contents: string;
  rest?: Rest;
}
export interface PartitionModel {
  label: string;
  sizeMiB: string;
  rest?: Rest;
}
export interface DiskModel {
  device: string;
  wipe: boolean;
  partitions: PartitionModel[];
  rest?: Rest;
}
export interface FilesystemModel {
  device: string;
  format: string;
  path: string;
  wipe: boolean;
  rest?: Rest;
}

export interface ProfileModel {
  os: 'flatcar' | 'fcos';
  channel: string;
  version: string;
  arch: string;
  mode: 'install' | 'live';
  installDisk: string;
  config: 'ignition' | 'ignition-v2' | 'cloud-config';
  kind: 'description' | 'template';
  hostname: string;
  users: UserModel[];
  files: FileModel[];
  units: UnitModel[];
  disks: DiskModel[];
  filesystems: FilesystemModel[];
  template: string;
  /** Top-level keys the form has no field for (kernelArgs, autologin, unknown keys): kept, sent back. */
  extra: Rest;
}

export function emptyModel(): ProfileModel {
  return {
    os: 'flatcar',
    channel: 'stable',
    version: 'current',
    arch: 'amd64',
    mode: 'install',
    installDisk: '/dev/sda',
    config: 'ignition',
    kind: 'description',
    hostname: '{{name}}',
    users: [{ name: 'core', groups: 'sudo, docker', keys: '' }],
    files: [],
    units: [],
    disks: [],
    filesystems: [],
    template: '',
    extra: {},
  };
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** One key per line; blank lines around them are ignored, so line N is key N. */
export const keyLines = (text: string) =>
  text.trim() === ''
    ? []
    : text
        .replace(/\s+$/, '')
        .replace(/^\s*\n/, '')
        .split('\n')
        .map((s) => s.trim());
const num = (text: string) => (text.trim() === '' ? 0 : Number(text));

/** The profile object for the API; keys of the other OS are left out. */
export function toProfile(m: ProfileModel): Record<string, unknown> {
  const p: Record<string, unknown> = {
    os: m.os,
    [m.os === 'flatcar' ? 'channel' : 'stream']: m.channel,
    version: m.version,
    arch: m.arch,
    mode: m.mode,
    installDisk: m.installDisk,
    config: m.config,
  };
  if (m.kind === 'template') {
    p['template'] = m.template;
    return { ...p, ...m.extra };
  }
  if (m.hostname.trim()) p['hostname'] = m.hostname.trim();
  p['users'] = m.users.map((u) => ({
    name: u.name.trim(),
    groups: list(u.groups),
    sshAuthorizedKeys: keyLines(u.keys),
    ...u.rest,
  }));
  if (m.files.length)
    p['files'] = m.files.map((f) => ({
      path: f.path.trim(),
      mode: f.mode.trim() || '0644',
      contents: f.contents,
      ...f.rest,
    }));
  if (m.units.length)
    p['units'] = m.units.map((u) => ({
      name: u.name.trim(),
      enabled: u.enabled,
      ...(u.contents.trim() ? { contents: u.contents } : {}),
      ...u.rest,
    }));
  if (m.disks.length || m.filesystems.length) {
    p['storage'] = {
      disks: m.disks.map((d) => ({
        device: d.device.trim(),
        wipe: d.wipe,
        partitions: d.partitions.map((x) => ({ label: x.label.trim(), sizeMiB: num(x.sizeMiB), ...x.rest })),
        ...d.rest,
      })),
      filesystems: m.filesystems.map((f) => ({
        device: f.device.trim(),
        format: f.format,
        ...(f.path.trim() ? { path: f.path.trim() } : {}),
        wipe: f.wipe,
        ...f.rest,
      })),
    };
  }
  return { ...p, ...m.extra };
}

// A draft's data is whatever its YAML says, so every read below expects the wrong type too.
const str = (v: unknown, fallback: string): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
const bool = (v: unknown): boolean => v === true;
const objects = (v: unknown): Rest[] =>
  Array.isArray(v) ? v.filter((x): x is Rest => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
const record = (v: unknown): Rest => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rest) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
/** The keys of `o` other than `known`, or undefined when there are none. */
function restOf(o: Rest, known: string[]): Rest | undefined {
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !known.includes(k)));
  return Object.keys(rest).length ? rest : undefined;
}

const shown = [
  'os',
  'channel',
  'stream',
  'version',
  'arch',
  'mode',
  'installDisk',
  'config',
  'template',
  'hostname',
  'users',
  'files',
  'units',
  'storage',
];

/**
 * The form model of a profile as written: the `data` of POST /api/profiles/validate
 * (the YAML as data, before defaults). What the form has no field for is kept in
 * `extra` and each entry's `rest`, so form → YAML → form loses nothing.
 */
export function fromProfile(p: Rest): ProfileModel {
  const m = emptyModel();
  m.os = p['os'] === 'fcos' ? 'fcos' : 'flatcar';
  m.channel = str(m.os === 'flatcar' ? p['channel'] : p['stream'], 'stable');
  m.version = str(p['version'], 'current');
  m.arch = str(p['arch'], m.os === 'flatcar' ? 'amd64' : 'x86_64');
  m.mode = p['mode'] === 'live' ? 'live' : 'install';
  m.installDisk = str(p['installDisk'], '/dev/sda');
  m.config = p['config'] === 'ignition-v2' || p['config'] === 'cloud-config' ? p['config'] : 'ignition';
  m.kind = typeof p['template'] === 'string' ? 'template' : 'description';
  m.template = str(p['template'], '');
  m.hostname = str(p['hostname'], '');
  m.users = objects(p['users']).map((u) => ({
    name: str(u['name'], ''),
    groups: strings(u['groups']).join(', '),
    keys: strings(u['sshAuthorizedKeys']).join('\n'),
    rest: restOf(u, ['name', 'groups', 'sshAuthorizedKeys']),
  }));
  m.files = objects(p['files']).map((f) => ({
    path: str(f['path'], ''),
    mode: str(f['mode'], '0644'),
    contents: str(f['contents'], ''),
    rest: restOf(f, ['path', 'mode', 'contents']),
  }));
  m.units = objects(p['units']).map((u) => ({
    name: str(u['name'], ''),
    enabled: bool(u['enabled']),
    contents: str(u['contents'], ''),
    rest: restOf(u, ['name', 'enabled', 'contents']),
  }));
  const storage = record(p['storage']);
  m.disks = objects(storage['disks']).map((d) => ({
    device: str(d['device'], ''),
    wipe: bool(d['wipe']),
    partitions: objects(d['partitions']).map((x) => ({
      label: str(x['label'], ''),
      sizeMiB: str(x['sizeMiB'], '0'),
      rest: restOf(x, ['label', 'sizeMiB']),
    })),
    rest: restOf(d, ['device', 'wipe', 'partitions']),
  }));
  m.filesystems = objects(storage['filesystems']).map((f) => ({
    device: str(f['device'], ''),
    format: str(f['format'], 'ext4'),
    path: str(f['path'], ''),
    wipe: bool(f['wipe']),
    rest: restOf(f, ['device', 'format', 'path', 'wipe']),
  }));
  m.extra = restOf(p, shown) ?? {};
  return m;
}

const flatcarChannels = ['stable', 'beta', 'alpha', 'lts'] as const;
const fcosStreams = ['stable', 'testing', 'next'] as const;
const flatcarArches = ['amd64', 'arm64'] as const;
const fcosArches = ['x86_64', 'aarch64'] as const;
export const channelsOf = (os: string): readonly string[] => (os === 'flatcar' ? flatcarChannels : fcosStreams);
export const archesOf = (os: string): readonly string[] => (os === 'flatcar' ? flatcarArches : fcosArches);

const oneOf = <T extends string>(values: readonly T[], value: string): T =>
  values.find((v) => v === value) ?? (values[0] as T);

/** The mirror source the wizard's choices name; a value the OS does not have falls back to its first. */
export function mirrorSourceOf(name: string, os: 'flatcar' | 'fcos', channel: string, arch: string): MirrorSource {
  return os === 'flatcar'
    ? {
        name,
        os,
        channel: oneOf(flatcarChannels, channel),
        arch: oneOf(flatcarArches, arch),
        baseUrl: null,
        keys: null,
      }
    : { name, os, stream: oneOf(fcosStreams, channel), arch: oneOf(fcosArches, arch), baseUrl: null, keys: null };
}
