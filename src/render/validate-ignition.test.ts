import { describe, expect, it } from 'vitest';
import { dataUrlProblem, validateIgnition } from './validate-ignition.js';

const v3 = (rest: Record<string, unknown>) => ({ ignition: { version: '3.3.0' }, ...rest });
const v2 = (rest: Record<string, unknown>) => ({ ignition: { version: '2.3.0' }, ...rest });
const file = (f: Record<string, unknown>) => ({
  storage: { files: [{ path: '/etc/motd', mode: 420, contents: { source: 'data:,hi' }, ...f }] },
});

describe('validateIgnition', () => {
  it.each([
    ['3.3.0 minimal', v3({})],
    ['2.3.0 minimal', v2({})],
    [
      '3.3.0 full',
      v3({
        passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['k'] }] },
        ...file({ overwrite: true }),
        systemd: { units: [{ name: 'a.service', enabled: true, dropins: [{ name: 'x.conf', contents: '' }] }] },
      }),
    ],
    [
      '2.3.0 file in root',
      v2({
        storage: { files: [{ filesystem: 'root', path: '/etc/motd', mode: 420, contents: { source: 'data:,hi' } }] },
      }),
    ],
    ['base64 data URL', v3(file({ contents: { source: 'data:text/plain;charset=utf-8;base64,aGk=' } }))],
    ['http source', v3(file({ contents: { source: 'http://10.77.0.1/files/motd' } }))],
  ])('accepts %s', (_name, config) => {
    expect(validateIgnition(config)).toEqual([]);
  });

  it.each([
    ['not an object', [], 'config: expected a JSON object'],
    ['no version', { ignition: {} }, 'ignition.version: required'],
    ['unknown version', { ignition: { version: '3.4.0' } }, 'expected one of 3.0.0'],
    ['unknown top-level key', v3({ storag: {} }), 'storag: unknown key for spec 3.x root'],
    ['2.x key in 3.x', v3(file({ filesystem: 'root' })), 'storage.files[0].filesystem: unknown key'],
    [
      'relative path',
      v3(file({ path: 'etc/motd' })),
      'storage.files[0].path: expected an absolute path, found "etc/motd"',
    ],
    ['octal string mode', v3(file({ mode: '0644' })), 'storage.files[0].mode: expected a decimal integer mode'],
    ['fractional mode', v3(file({ mode: 4.2 })), 'storage.files[0].mode'],
    ['bad data URL', v3(file({ contents: { source: 'data:hi there' } })), 'no ","'],
    ['unencoded data', v3(file({ contents: { source: 'data:,hi there' } })), 'must be percent-encoded'],
    ['bad percent', v3(file({ contents: { source: 'data:,100%' } })), '"%" not followed'],
    ['bad base64', v3(file({ contents: { source: 'data:;base64,a' } })), 'invalid base64'],
    ['bad scheme', v3(file({ contents: { source: 'ftp://x/y' } })), 'unsupported URL scheme ftp:'],
    ['overwrite without source', v3(file({ overwrite: true, contents: {} })), 'required when overwrite is true'],
    [
      'duplicate paths',
      v3({
        storage: {
          files: [
            { path: '/a', contents: { source: 'data:,' } },
            { path: '/a', contents: { source: 'data:,' } },
          ],
        },
      }),
      'storage.files[1].path: duplicate file path "/a" (first at storage.files[0].path)',
    ],
    [
      'unit without type',
      v3({ systemd: { units: [{ name: 'docker' }] } }),
      'systemd.units[0].name: expected a unit name',
    ],
    [
      'duplicate units',
      v3({ systemd: { units: [{ name: 'a.service' }, { name: 'a.service' }] } }),
      'duplicate unit "a.service"',
    ],
    [
      'enabled not boolean',
      v3({ systemd: { units: [{ name: 'a.service', enabled: 'yes' }] } }),
      'systemd.units[0].enabled: expected a boolean',
    ],
    ['bad drop-in', v3({ systemd: { units: [{ name: 'a.service', dropins: [{ name: 'x' }] }] } }), 'ending in .conf'],
    ['duplicate users', v3({ passwd: { users: [{ name: 'core' }, { name: 'core' }] } }), 'duplicate user "core"'],
    ['user without name', v3({ passwd: { users: [{ groups: [] }] } }), 'passwd.users[0].name: required'],
    [
      'keys not strings',
      v3({ passwd: { users: [{ name: 'core', sshAuthorizedKeys: [1] }] } }),
      'sshAuthorizedKeys: expected a list of strings',
    ],
    [
      'filesystem without device',
      v3({ storage: { filesystems: [{ format: 'ext4', path: '/var' }] } }),
      'storage.filesystems[0].device: required',
    ],
    [
      'unknown format',
      v3({ storage: { filesystems: [{ device: '/dev/sdb1', format: 'ntfs' }] } }),
      'storage.filesystems[0].format: expected one of',
    ],
    [
      'duplicate filesystem device',
      v3({ storage: { filesystems: [{ device: '/dev/sdb1' }, { device: '/dev/sdb1' }] } }),
      'duplicate filesystem device',
    ],
    [
      '2.x filesystem without mount or path',
      v2({ storage: { filesystems: [{ name: 'x' }] } }),
      'expected mount or path',
    ],
    [
      '2.x mount without format',
      v2({ storage: { filesystems: [{ name: 'x', mount: { device: '/dev/sdb1' } }] } }),
      'mount.format: expected one of',
    ],
    [
      '2.x file without filesystem',
      v2({ storage: { files: [{ path: '/a' }] } }),
      'storage.files[0].filesystem: required in spec 2.x',
    ],
    ['disk without device', v3({ storage: { disks: [{ wipeTable: true }] } }), 'storage.disks[0].device: required'],
    [
      'negative size',
      v3({ storage: { disks: [{ device: '/dev/sdb', partitions: [{ sizeMiB: -1 }] }] } }),
      'partitions[0].sizeMiB: expected a non-negative integer',
    ],
    [
      'long label',
      v3({ storage: { disks: [{ device: '/dev/sdb', partitions: [{ label: 'x'.repeat(37) }] }] } }),
      'at most 36',
    ],
    [
      'duplicate partition number',
      v3({ storage: { disks: [{ device: '/dev/sdb', partitions: [{ number: 1 }, { number: 1 }] }] } }),
      'duplicate partition number "1"',
    ],
    ['list expected', v3({ systemd: { units: {} } }), 'systemd.units: expected a list'],
  ])('rejects %s', (_name, config, problem) => {
    const problems = validateIgnition(config);
    expect(problems.join('\n')).toContain(problem);
  });

  it('allows several partitions numbered 0 (next free slot)', () => {
    expect(
      validateIgnition(
        v3({
          storage: {
            disks: [
              {
                device: '/dev/sdb',
                partitions: [
                  { number: 0, label: 'a' },
                  { number: 0, label: 'b' },
                ],
              },
            ],
          },
        }),
      ),
    ).toEqual([]);
  });
});

describe('dataUrlProblem', () => {
  it.each([
    'data:,',
    'data:,a%20b',
    'data:text/plain,x',
    'data:text/plain;charset=utf-8,x',
    'data:;base64,',
    'data:application/octet-stream;base64,AAEC',
  ])('accepts %s', (url) => {
    expect(dataUrlProblem(url)).toBeNull();
  });
});

describe('validateIgnition, partition placement', () => {
  it('rejects explicitly placed partitions that overlap, as ignition-validate does', () => {
    const disk = (partitions: unknown[]) => v3({ storage: { disks: [{ device: '/dev/sdb', partitions }] } });
    expect(
      validateIgnition(
        disk([
          { startMiB: 1, sizeMiB: 100 },
          { startMiB: 50, sizeMiB: 10 },
        ]),
      ),
    ).toEqual(['storage.disks[0].partitions[1]: overlaps storage.disks[0].partitions[0] (MiB 1..101 and 50..60)']);
    expect(
      validateIgnition(
        disk([
          { startMiB: 1, sizeMiB: 100 },
          { startMiB: 101, sizeMiB: 10 },
          { startMiB: 0, sizeMiB: 0 },
        ]),
      ),
    ).toEqual([]);
  });
});
