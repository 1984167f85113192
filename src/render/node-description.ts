import { z } from 'zod';

// A node description: what a machine should look like after its first boot, in the
// terms the seed guides used (hostname, users and SSH keys, files, units, a data disk
// wiped, partitioned, formatted ext4 and mounted). One description renders to
// Ignition 3.x, Ignition 2.x and cloud-config.

const sshKeyTypes =
  /ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)/.source +
  /|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com/.source;
const sshKeyPattern = new RegExp(`^(${sshKeyTypes}) ${/[A-Za-z0-9+/]+={0,3}( [^\n]*)?$/.source}`);
export const sshAuthorizedKey = z
  .string()
  .regex(
    sshKeyPattern,
    'expected an SSH public key such as "ssh-ed25519 AAAAC3Nza... user@host" (type, base64 key, optional comment)',
  );

const absolutePath = z
  .string()
  .regex(/^\/(?!.*(^|\/)\.\.(\/|$))[^\0]*$/, 'expected an absolute path without ".." such as /etc/motd');
const unitName = z
  .string()
  .regex(
    /^[A-Za-z0-9:_.@-]+\.(service|socket|target|timer|mount|automount|path|swap|slice)$/,
    'expected a systemd unit name such as docker.service',
  );

export const userSchema = z.strictObject({
  name: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'expected a user name such as core'),
  groups: z.array(z.string().min(1)).default([]),
  sshAuthorizedKeys: z.array(sshAuthorizedKey).default([]),
  /** A crypt(3) hash, never a clear-text password. */
  passwordHash: z
    .string()
    .regex(/^\$[0-9a-z]+\$/, 'expected a crypt(3) hash such as $6$...')
    .optional(),
});

export const fileSchema = z.strictObject({
  path: absolutePath,
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, 'expected an octal mode such as "0644"')
    .default('0644'),
  contents: z.string().default(''),
  overwrite: z.boolean().default(true),
});

export const unitSchema = z.strictObject({
  name: unitName,
  enabled: z.boolean().optional(),
  mask: z.boolean().optional(),
  contents: z.string().optional(),
});

export const partitionSchema = z.strictObject({
  label: z.string().regex(/^[A-Za-z0-9_-]{1,36}$/, 'expected a partition label of up to 36 letters, digits, - or _'),
  number: z.number().int().min(0).max(128).default(0),
  /** 0 means the rest of the disk. */
  sizeMiB: z.number().int().min(0).default(0),
  startMiB: z.number().int().min(0).optional(),
});

export const diskSchema = z.strictObject({
  device: absolutePath,
  wipe: z.boolean().default(false),
  partitions: z.array(partitionSchema).default([]),
});

export const filesystemSchema = z.strictObject({
  device: absolutePath,
  format: z.enum(['ext4', 'xfs', 'btrfs', 'vfat', 'swap']),
  /** Where it is mounted; omitted for a filesystem that is only created. */
  path: absolutePath.optional(),
  label: z.string().max(16).optional(),
  wipe: z.boolean().default(false),
  mountOptions: z.array(z.string()).default([]),
});

export const nodeDescriptionShape = {
  hostname: z.string().min(1).optional(),
  users: z.array(userSchema).default([]),
  files: z.array(fileSchema).default([]),
  units: z.array(unitSchema).default([]),
  storage: z
    .strictObject({
      disks: z.array(diskSchema).default([]),
      filesystems: z.array(filesystemSchema).default([]),
    })
    .prefault({}),
};

export const nodeDescriptionSchema = z.strictObject(nodeDescriptionShape);
export type NodeDescription = z.infer<typeof nodeDescriptionSchema>;
export type NodeUser = z.infer<typeof userSchema>;
export type NodeFile = z.infer<typeof fileSchema>;
export type NodeUnit = z.infer<typeof unitSchema>;
export type NodeFilesystem = z.infer<typeof filesystemSchema>;

/** What a renderer knows about the machine it renders for. */
export interface RenderContext {
  /** Lower-case colon form, 52:54:00:aa:bb:cc. */
  mac: string;
  name: string;
  /** The node's address: its reservation, or the address its request came from. */
  ip: string | null;
  /** Base URL nodes use to reach Kindling, without a trailing slash: http://10.77.0.1 */
  serverUrl: string;
  /** The machine's callback token; only this machine's rendered configs contain it. */
  token: string;
  /**
   * The key update.conf's SERVER= names the machine by (SERVER=.../v1/update/?node=KEY),
   * so its update checks find its row from behind NAT; absent: the plain URL.
   */
  updateKey?: string;
  /** Variables from machines.yaml, plus name, mac, ip and server. */
  vars: Record<string, string>;
}
