// The profile form's model: what the operator edits, as strings where people type
// lists, and its conversion to the profile object the server validates. The server
// runs the same zod schema as the file loader (POST /api/profiles/validate).

export interface UserModel { name: string; groups: string; keys: string }
export interface FileModel { path: string; mode: string; contents: string }
export interface UnitModel { name: string; enabled: boolean; contents: string }
export interface PartitionModel { label: string; sizeMiB: string }
export interface DiskModel { device: string; wipe: boolean; partitions: PartitionModel[] }
export interface FilesystemModel { device: string; format: string; path: string; wipe: boolean }

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
}

export function emptyModel(): ProfileModel {
  return {
    os: 'flatcar', channel: 'stable', version: 'current', arch: 'amd64', mode: 'install', installDisk: '/dev/sda', config: 'ignition',
    kind: 'description', hostname: '{{name}}', users: [{ name: 'core', groups: 'sudo, docker', keys: '' }], files: [], units: [], disks: [], filesystems: [], template: '',
  };
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
/** One key per line; blank lines around them are ignored, so line N is key N. */
export const keyLines = (text: string) => (text.trim() === '' ? [] : text.replace(/\s+$/, '').replace(/^\s*\n/, '').split('\n').map((s) => s.trim()));
const num = (text: string) => (text.trim() === '' ? 0 : Number(text));

/** The profile object for the API; keys of the other OS are left out. */
export function toProfile(m: ProfileModel): Record<string, unknown> {
  const p: Record<string, unknown> = { os: m.os, [m.os === 'flatcar' ? 'channel' : 'stream']: m.channel, version: m.version, arch: m.arch, mode: m.mode, installDisk: m.installDisk, config: m.config };
  if (m.kind === 'template') {
    p['template'] = m.template;
    return p;
  }
  if (m.hostname.trim()) p['hostname'] = m.hostname.trim();
  p['users'] = m.users.map((u) => ({ name: u.name.trim(), groups: list(u.groups), sshAuthorizedKeys: keyLines(u.keys) }));
  if (m.files.length) p['files'] = m.files.map((f) => ({ path: f.path.trim(), mode: f.mode.trim() || '0644', contents: f.contents }));
  if (m.units.length) p['units'] = m.units.map((u) => ({ name: u.name.trim(), enabled: u.enabled, ...(u.contents.trim() ? { contents: u.contents } : {}) }));
  if (m.disks.length || m.filesystems.length) {
    p['storage'] = {
      disks: m.disks.map((d) => ({ device: d.device.trim(), wipe: d.wipe, partitions: d.partitions.map((x) => ({ label: x.label.trim(), sizeMiB: num(x.sizeMiB) })) })),
      filesystems: m.filesystems.map((f) => ({ device: f.device.trim(), format: f.format, ...(f.path.trim() ? { path: f.path.trim() } : {}), wipe: f.wipe })),
    };
  }
  return p;
}

/** The form model of a profile as the API returns it (GET /api/profiles/NAME). */
export function fromProfile(p: any): ProfileModel {
  const m = emptyModel();
  m.os = p.os ?? 'flatcar';
  m.channel = (m.os === 'flatcar' ? p.channel : p.stream) ?? 'stable';
  m.version = p.version ?? 'current';
  m.arch = p.arch ?? 'amd64';
  m.mode = p.mode ?? 'install';
  m.installDisk = p.installDisk ?? '/dev/sda';
  m.config = p.config ?? 'ignition';
  m.kind = typeof p.template === 'string' ? 'template' : 'description';
  m.template = p.template ?? '';
  m.hostname = p.hostname ?? '';
  m.users = (p.users ?? []).map((u: any) => ({ name: u.name, groups: (u.groups ?? []).join(', '), keys: (u.sshAuthorizedKeys ?? []).join('\n') }));
  m.files = (p.files ?? []).map((f: any) => ({ path: f.path, mode: f.mode ?? '0644', contents: f.contents ?? '' }));
  m.units = (p.units ?? []).map((u: any) => ({ name: u.name, enabled: u.enabled ?? false, contents: u.contents ?? '' }));
  m.disks = (p.storage?.disks ?? []).map((d: any) => ({ device: d.device, wipe: !!d.wipe, partitions: (d.partitions ?? []).map((x: any) => ({ label: x.label, sizeMiB: String(x.sizeMiB ?? 0) })) }));
  m.filesystems = (p.storage?.filesystems ?? []).map((f: any) => ({ device: f.device, format: f.format, path: f.path ?? '', wipe: !!f.wipe }));
  return m;
}

export const channelsOf = (os: string) => (os === 'flatcar' ? ['stable', 'beta', 'alpha', 'lts'] : ['stable', 'testing', 'next']);
export const archesOf = (os: string) => (os === 'flatcar' ? ['amd64', 'arm64'] : ['x86_64', 'aarch64']);
