import { describe, expect, it } from 'vitest';
import { fcosRelease, streamUrl } from './fcos.js';

const source = {
  name: 'fcos-stable',
  os: 'fcos' as const,
  stream: 'stable' as const,
  arch: 'x86_64' as const,
  baseUrl: null,
  keys: null,
};
const sha = 'a'.repeat(64);
const art = (loc: string) => ({ location: loc, sha256: sha, signature: `${loc}.sig` });

function stream(release = '39.20240210.3.0', arch = 'x86_64'): string {
  const b = `https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/${release}/${arch}`;
  return JSON.stringify({
    stream: 'stable',
    architectures: {
      [arch]: {
        artifacts: {
          metal: {
            release,
            formats: {
              pxe: {
                kernel: art(`${b}/fedora-coreos-${release}-live-kernel-${arch}`),
                initramfs: art(`${b}/fedora-coreos-${release}-live-initramfs.${arch}.img`),
                rootfs: art(`${b}/fedora-coreos-${release}-live-rootfs.${arch}.img`),
              },
              'raw.xz': { disk: art(`${b}/fedora-coreos-${release}-metal.${arch}.raw.xz`) },
            },
          },
        },
      },
    },
  });
}

describe('fcosRelease', () => {
  it('reads the stream URL from the stream name', () => {
    expect(streamUrl(source)).toBe('https://builds.coreos.fedoraproject.org/streams/stable.json');
  });

  it('maps the version-less names the boot scripts use, with .sig beside each', () => {
    const release = fcosRelease(source, stream());
    expect(release.version).toBe('39.20240210.3.0');
    expect(release.files.map((f) => f.name)).toEqual([
      'fedora-coreos-39.20240210.3.0-live-kernel-x86_64',
      'fedora-coreos-39.20240210.3.0-live-initramfs.x86_64.img',
      'fedora-coreos-39.20240210.3.0-live-rootfs.x86_64.img',
      'fedora-coreos-39.20240210.3.0-metal.x86_64.raw.xz',
    ]);
    expect(release.aliases).toMatchObject({
      'fedora-coreos-live-kernel-x86_64': 'fedora-coreos-39.20240210.3.0-live-kernel-x86_64',
      'fedora-coreos-metal.x86_64.raw.xz': 'fedora-coreos-39.20240210.3.0-metal.x86_64.raw.xz',
      'fedora-coreos-metal.x86_64.raw.xz.sig': 'fedora-coreos-39.20240210.3.0-metal.x86_64.raw.xz.sig',
    });
    expect(release.files.every((f) => f.sha256 === sha)).toBe(true);
  });

  it('resolves relative locations against the stream URL', () => {
    const text = stream().replaceAll('https://builds.coreos.fedoraproject.org/prod', '../prod');
    expect(fcosRelease(source, text).files[0]?.url).toBe(
      'https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/39.20240210.3.0/x86_64/' +
        'fedora-coreos-39.20240210.3.0-live-kernel-x86_64',
    );
  });

  it.each([
    ['not json', /does not parse as JSON/],
    [stream('39.20240210.3.0', 'aarch64'), /expected architecture x86_64, found aarch64/],
    [stream('../../x'), /release/],
    [stream().replace(sha, 'xyz'), /sha256/],
  ])('refuses bad metadata (%#)', (text, message) => {
    expect(() => fcosRelease(source, text)).toThrow(message);
  });
});
