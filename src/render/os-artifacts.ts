// Where an OS's files live on Kindling's mirror (docs/mirror.md, "URLs").
// The Flatcar layout is the one flatcar-install's `-b BASEURL` expects:
// BASEURL/VERSION/flatcar_production_image.bin.bz2 with its .sig beside it.
// Fedora CoreOS files are published under version-less names inside each version
// directory, so a profile saying `version: current` needs no rewriting.

export interface OsTarget {
  os: 'flatcar' | 'fcos';
  channel?: string | undefined;
  stream?: string | undefined;
  arch: string;
  version: string;
}

export interface OsArtifacts {
  kernel: string;
  initrds: string[];
  /** Flatcar: the -b base for flatcar-install. FCOS: the version directory. */
  installBase: string;
  /** The disk image an installer writes. */
  image: string;
  /** FCOS live root filesystem (coreos.live.rootfs_url). */
  rootfs: string | null;
}

export function osArtifacts(target: OsTarget, serverUrl: string): OsArtifacts {
  if (target.os === 'flatcar') {
    const base = `${serverUrl}/mirror/flatcar/${target.channel ?? 'stable'}/${target.arch}-usr`;
    const dir = `${base}/${target.version}`;
    return {
      kernel: `${dir}/flatcar_production_pxe.vmlinuz`,
      initrds: [`${dir}/flatcar_production_pxe_image.cpio.gz`],
      installBase: base,
      image: `${dir}/flatcar_production_image.bin.bz2`,
      rootfs: null,
    };
  }
  const dir = `${serverUrl}/mirror/fcos/${target.stream ?? 'stable'}/${target.arch}/${target.version}`;
  return {
    kernel: `${dir}/fedora-coreos-live-kernel-${target.arch}`,
    initrds: [`${dir}/fedora-coreos-live-initramfs.${target.arch}.img`],
    installBase: dir,
    image: `${dir}/fedora-coreos-metal.${target.arch}.raw.xz`,
    rootfs: `${dir}/fedora-coreos-live-rootfs.${target.arch}.img`,
  };
}
