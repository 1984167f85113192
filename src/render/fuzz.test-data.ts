import { opsKey } from './fixtures.test-data.js';
import { nodeDescriptionSchema, type NodeDescription } from './node-description.js';

// Random node descriptions for the fuzz tests, built through the profile schema
// itself so every one is a description a profile could hold.

export { prng } from '../../test/support/prng.js';

/** A function returning a new random description each call. */
export function generator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chars = [
    'a',
    'Z',
    '0',
    '-',
    '_',
    '.',
    ' ',
    '\n',
    '\t',
    '"',
    "'",
    '\\',
    '%',
    '$',
    '{',
    '}',
    ':',
    '#',
    '&',
    '/',
    'é',
    '😀',
    '\u0000',
    '\u007f',
  ];
  const text = (max: number) => Array.from({ length: int(max) }, () => pick(chars)).join('');
  const ident = (prefix: string) => `${prefix}${int(1000)}`;
  const unique = <T>(xs: T[], key: (x: T) => string) => [...new Map(xs.map((x) => [key(x), x])).values()];

  return (): NodeDescription => {
    const paths = unique(
      Array.from({ length: int(5) }, () => ({
        path: `/${ident('d')}/${pick(['f', 'a b', 'x%y', 'é'])}${int(50)}`,
        mode: pick(['0644', '644', '0755', '0600', '1777', '0000']),
        contents: text(40),
        overwrite: rand() < 0.8,
      })),
      (f) => f.path,
    );
    const fsPaths = unique(
      Array.from({ length: int(3) }, () => ({
        device: `/dev/disk/by-partlabel/${ident('p')}`,
        format: pick(['ext4', 'xfs', 'btrfs', 'vfat', 'swap'] as const),
        path: rand() < 0.7 ? `/var/${pick(['lib/docker', 'my-data', 'a.b', 'x y'])}${int(9)}` : undefined,
        label: rand() < 0.5 ? ident('L') : undefined,
        wipe: rand() < 0.5,
        mountOptions: rand() < 0.3 ? ['noatime'] : [],
      })),
      (f) => f.device,
    );
    const mountPoints = new Set<string>();
    const filesystems = fsPaths.filter(
      (f) => f.path === undefined || f.format === 'swap' || (!mountPoints.has(f.path) && mountPoints.add(f.path)),
    );
    return nodeDescriptionSchema.parse({
      hostname: rand() < 0.7 ? text(20) || 'h' : undefined,
      users: unique(
        Array.from({ length: int(3) }, () => ({
          name: ident('u'),
          groups: rand() < 0.5 ? ['docker', 'sudo'] : [],
          sshAuthorizedKeys: rand() < 0.6 ? [opsKey] : [],
          passwordHash: rand() < 0.3 ? '$6$salt$hash' : undefined,
        })),
        (u) => u.name,
      ),
      files: paths,
      units: unique(
        Array.from({ length: int(4) }, () => ({
          name: `${ident('s')}.${pick(['service', 'timer', 'socket', 'target'])}`,
          enabled: pick([true, false, undefined]),
          mask: pick([true, undefined]),
          contents: rand() < 0.6 ? text(60) : undefined,
        })),
        (u) => u.name,
      ),
      storage: {
        disks: unique(
          Array.from({ length: int(3) }, (_, d) => ({
            device: `/dev/sd${'bcdefg'[d]}`,
            wipe: rand() < 0.5,
            partitions: Array.from({ length: int(3) }, (_, i) => ({
              label: `${ident('l')}${i}`,
              number: pick([0, i + 1]),
              sizeMiB: pick([0, 512, 10240]),
              startMiB: pick([undefined, 0, 1 + i * 20000]),
            })),
          })),
          (d) => d.device,
        ),
        filesystems,
      },
    });
  };
}
