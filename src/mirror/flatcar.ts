import { KindlingError } from '../errors.js';
import { isSafeSegment } from './layout.js';
import type { MirrorSource, Release } from './types.js';

type FlatcarSource = Extract<MirrorSource, { os: 'flatcar' }>;

/**
 * The files a PXE boot and flatcar-install need, and the payload update_engine fetches
 * for installed nodes (src/updates/); each has a detached .sig upstream.
 */
export const flatcarFiles = [
  'flatcar_production_pxe.vmlinuz',
  'flatcar_production_pxe_image.cpio.gz',
  'flatcar_production_image.bin.bz2',
  'flatcar_production_update.gz',
] as const;

/**
 * The release tree of a channel and arch, the URL flatcar-install calls its -b base:
 * BASE/current/version.txt and BASE/VERSION/FILE. `baseUrl` replaces the per-channel host.
 */
export function flatcarBase(source: FlatcarSource): string {
  const host = (source.baseUrl ?? `https://${source.channel}.release.flatcar-linux.net`).replace(/\/+$/, '');
  return `${host}/${source.arch}-usr`;
}

export function versionTxtUrl(source: FlatcarSource): string {
  return `${flatcarBase(source)}/current/version.txt`;
}

/**
 * Reads FLATCAR_VERSION the way flatcar-install does (`sed -n 's/^FLATCAR_VERSION=//p'`),
 * and refuses anything that is not a plain version, since it becomes a directory name.
 */
export function parseVersionTxt(text: string, where: { source: string; url: string }): string {
  const lines = text.split(/\r?\n/);
  const match = lines.map((l) => /^FLATCAR_VERSION=(.*)$/.exec(l)).find((m) => m);
  const version = match?.[1]?.trim().replace(/^"(.*)"$/, '$1') ?? '';
  if (!match || !/^\d+\.\d+\.\d+([+-][A-Za-z0-9._-]+)?$/.test(version) || !isSafeSegment(version)) {
    const found = match
      ? `FLATCAR_VERSION=${JSON.stringify(version)}`
      : `no FLATCAR_VERSION= line in ${JSON.stringify(text.slice(0, 80))}`;
    throw new KindlingError(
      'MIRROR_METADATA',
      `mirror source ${where.source}: version.txt at ${where.url}: expected ` +
        `FLATCAR_VERSION=MAJOR.MINOR.PATCH, found ${found}`,
      {
        source: where.source,
        file: 'version.txt',
        url: where.url,
      },
    );
  }
  return version;
}

export function flatcarRelease(source: FlatcarSource, versionTxt: string): Release {
  const version = parseVersionTxt(versionTxt, { source: source.name, url: versionTxtUrl(source) });
  const dir = `${flatcarBase(source)}/${version}`;
  return {
    version,
    files: flatcarFiles.map((name) => ({
      name,
      url: `${dir}/${name}`,
      sha256: null,
      signatureUrl: `${dir}/${name}.sig`,
    })),
    extras: [{ name: 'version.txt', content: versionTxt.endsWith('\n') ? versionTxt : `${versionTxt}\n` }],
    aliases: {},
  };
}
