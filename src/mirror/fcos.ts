import { z } from 'zod';
import { KindlingError } from '../errors.js';
import { isSafeSegment } from './layout.js';
import type { MirrorSource, Release } from './types.js';

type FcosSource = Extract<MirrorSource, { os: 'fcos' }>;

export function streamUrl(source: FcosSource): string {
  const host = (source.baseUrl ?? 'https://builds.coreos.fedoraproject.org').replace(/\/+$/, '');
  return `${host}/streams/${source.stream}.json`;
}

const artifact = z.object({
  location: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
  signature: z.string().min(1).optional(),
});

// Only the parts Kindling uses; the rest of the stream document (clouds, images) is ignored.
const streamSchema = z.object({
  architectures: z.record(
    z.string(),
    z.object({
      artifacts: z.object({
        metal: z.object({
          release: z.string().regex(/^\d+(\.\d+)+$/, 'expected a release such as 39.20240210.3.0'),
          formats: z.object({
            pxe: z.object({ kernel: artifact, initramfs: artifact, rootfs: artifact }),
            'raw.xz': z.object({ disk: artifact }),
          }),
        }),
      }),
    }),
  ),
});

/** Version-less names the boot scripts use (src/render/os-artifacts.ts), by artifact. */
export function fcosAliases(arch: string): { kernel: string; initramfs: string; rootfs: string; disk: string } {
  return {
    kernel: `fedora-coreos-live-kernel-${arch}`,
    initramfs: `fedora-coreos-live-initramfs.${arch}.img`,
    rootfs: `fedora-coreos-live-rootfs.${arch}.img`,
    disk: `fedora-coreos-metal.${arch}.raw.xz`,
  };
}

export function fcosRelease(source: FcosSource, text: string): Release {
  const url = streamUrl(source);
  const fail = (what: string): never => {
    throw new KindlingError('MIRROR_METADATA', `mirror source ${source.name}: stream metadata at ${url}: ${what}`, {
      source: source.name,
      file: `${source.stream}.json`,
      url,
    });
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`does not parse as JSON (${(err as Error).message})`);
  }
  const parsed = streamSchema.safeParse(json);
  if (!parsed.success)
    return fail(
      `expected architectures.ARCH.artifacts.metal with formats.pxe and ` +
        `formats["raw.xz"]: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const arch = parsed.data.architectures[source.arch];
  if (!arch)
    return fail(
      `expected architecture ${source.arch}, found ${Object.keys(parsed.data.architectures).join(', ') || 'none'}`,
    );
  const metal = arch.artifacts.metal;
  const aliases = fcosAliases(source.arch);
  const picks = {
    kernel: metal.formats.pxe.kernel,
    initramfs: metal.formats.pxe.initramfs,
    rootfs: metal.formats.pxe.rootfs,
    disk: metal.formats['raw.xz'].disk,
  };
  const release: Release = { version: metal.release, files: [], extras: [], aliases: {} };
  for (const [kind, a] of Object.entries(picks) as Array<[keyof typeof picks, z.infer<typeof artifact>]>) {
    const location = new URL(a.location, url).toString();
    const name = decodeURIComponent(new URL(location).pathname.split('/').pop() ?? '');
    if (!isSafeSegment(name)) fail(`${kind} location ${a.location} does not end in a plain file name`);
    const signatureUrl = a.signature ? new URL(a.signature, url).toString() : null;
    release.files.push({ name, url: location, sha256: a.sha256, signatureUrl });
    release.aliases[aliases[kind]] = name;
    // coreos-installer fetches IMAGE_URL.sig beside the image; give the alias one too.
    if (signatureUrl) release.aliases[`${aliases[kind]}.sig`] = `${name}.sig`;
  }
  return release;
}
