import { z } from 'zod';
import { validate } from '../config/yaml-document.js';
import { nodeDescriptionShape } from '../render/node-description.js';

// A profile (dataDir/config/profiles/NAME.yaml): which OS a machine gets, how it boots
// (install to disk or live from the network every time) and what it looks like, as a
// node description or as a raw template.

export const profileNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const profileSchema = z
  .strictObject({
    os: z.enum(['flatcar', 'fcos']).default('flatcar'),
    channel: z.enum(['stable', 'beta', 'alpha', 'lts']).optional(),
    stream: z.enum(['stable', 'testing', 'next']).optional(),
    version: z
      .string()
      .regex(/^(current|[0-9][0-9A-Za-z.+_-]*)$/, 'expected "current" or a version such as 4081.2.0')
      .default('current'),
    arch: z.enum(['amd64', 'arm64', 'x86_64', 'aarch64']).default('amd64'),
    mode: z.enum(['install', 'live']).default('install'),
    installDisk: z
      .string()
      .regex(/^\/dev\/[A-Za-z0-9/_.-]+$/, 'expected a device path such as /dev/sda')
      .default('/dev/sda'),
    /** Which config the node fetches: Ignition 3.3.0 (default), Ignition 2.3.0 for old Flatcar, or cloud-config. */
    config: z.enum(['ignition', 'ignition-v2', 'cloud-config']).default('ignition'),
    /** Extra kernel arguments, appended as given. */
    kernelArgs: z
      .array(z.string().regex(/^[^\s'"]+$/, 'expected one kernel argument without spaces or quotes'))
      .default([]),
    /** Log in on the console without a password: only on request, as Flatcar's docs say. */
    autologin: z.boolean().default(false),
    /**
     * Flatcar: /etc/flatcar/update.conf points update_engine at Kindling (docs/updates.md); group defaults to the
     * channel.
     */
    updates: z
      .strictObject({
        enabled: z.boolean().default(true),
        group: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a group name: letters, digits, ".", "_" or "-"')
          .optional(),
      })
      .default({ enabled: true }),
    /** A raw Ignition (JSON) or cloud-config template with {{variable}} substitution, instead of a node description. */
    template: z.string().optional(),
    ...nodeDescriptionShape,
  })
  .superRefine((p, ctx) => {
    if (p.os === 'flatcar' && p.stream)
      ctx.addIssue({ code: 'custom', path: ['stream'], message: 'stream is for os: fcos; Flatcar uses channel' });
    if (p.os === 'fcos' && p.channel)
      ctx.addIssue({
        code: 'custom',
        path: ['channel'],
        message: 'channel is for os: flatcar; Fedora CoreOS uses stream',
      });
    if (p.os === 'fcos' && p.config !== 'ignition')
      ctx.addIssue({
        code: 'custom',
        path: ['config'],
        message: 'Fedora CoreOS reads Ignition 3 only; expected config: ignition',
      });
    const flatcarArch = p.arch === 'amd64' || p.arch === 'arm64';
    if (p.os === 'flatcar' && !flatcarArch)
      ctx.addIssue({ code: 'custom', path: ['arch'], message: `Flatcar arches are amd64 and arm64, found ${p.arch}` });
    if (p.os === 'fcos' && flatcarArch)
      ctx.addIssue({
        code: 'custom',
        path: ['arch'],
        message: `Fedora CoreOS arches are x86_64 and aarch64, found ${p.arch}`,
      });
    const described =
      p.hostname !== undefined ||
      p.users.length > 0 ||
      p.files.length > 0 ||
      p.units.length > 0 ||
      p.storage.disks.length > 0 ||
      p.storage.filesystems.length > 0;
    if (p.template !== undefined && described)
      ctx.addIssue({
        code: 'custom',
        path: ['template'],
        message:
          'a profile has either a template or a node description (hostname, users, files, units, storage), not both',
      });
  })
  .transform((p) => ({
    ...p,
    channel: p.os === 'flatcar' ? (p.channel ?? 'stable') : undefined,
    stream: p.os === 'fcos' ? (p.stream ?? 'stable') : undefined,
  }));

export type ProfileSpec = z.infer<typeof profileSchema>;
export interface Profile extends ProfileSpec {
  name: string;
}

export function parseProfile(name: string, data: unknown, file: string): Profile {
  return { name, ...validate(profileSchema, data, file, 'PROFILE_INVALID') };
}
