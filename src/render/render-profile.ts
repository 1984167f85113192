import type { NodeDescription } from './node-description.js';
import type { ConfigFormat } from './rendered-config.js';
import { substitute } from './variables.js';

/**
 * What the renderers need of a profile, stated here so render never imports
 * inventory (imports flow inventory -> render). inventory's Profile fits it as is.
 */
export interface RenderProfile extends NodeDescription {
  name: string;
  os: 'flatcar' | 'fcos';
  channel?: string | undefined;
  stream?: string | undefined;
  version: string;
  arch: string;
  mode: 'install' | 'live';
  installDisk: string;
  config: ConfigFormat;
  template?: string | undefined;
  autologin: boolean;
  kernelArgs: string[];
  /** Flatcar update.conf: absent or enabled means nodes ask Kindling for updates. */
  updates?: { enabled: boolean; group?: string | undefined } | undefined;
}

/**
 * The profile's node description with `{{variable}}` substituted in its free-text
 * fields (hostname, file paths and contents, unit contents, devices and mount
 * points), so one profile serves a rack: `hostname: "{{name}}.rack.local"`.
 * Names checked by the profile schema (users, units, partition labels) are taken as written.
 */
export function describeNode(profile: RenderProfile, vars: Record<string, string>): NodeDescription {
  const at = (field: string) => `profile ${profile.name}: ${field}`;
  const sub = (text: string, field: string) => substitute(text, vars, at(field));
  return {
    hostname: profile.hostname === undefined ? undefined : sub(profile.hostname, 'hostname'),
    users: profile.users,
    files: profile.files.map((f, i) => ({
      ...f,
      path: sub(f.path, `files[${i}].path`),
      contents: sub(f.contents, `files[${i}].contents`),
    })),
    units: profile.units.map((u, i) =>
      u.contents === undefined ? u : { ...u, contents: sub(u.contents, `units[${i}].contents`) },
    ),
    storage: {
      disks: profile.storage.disks.map((d, i) => ({ ...d, device: sub(d.device, `storage.disks[${i}].device`) })),
      filesystems: profile.storage.filesystems.map((fs, i) => {
        const field = `storage.filesystems[${i}]`;
        return {
          ...fs,
          device: sub(fs.device, `${field}.device`),
          ...(fs.path !== undefined ? { path: sub(fs.path, `${field}.path`) } : {}),
          ...(fs.label !== undefined ? { label: sub(fs.label, `${field}.label`) } : {}),
        };
      }),
    },
  };
}
