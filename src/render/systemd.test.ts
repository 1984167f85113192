import { describe, expect, it } from 'vitest';
import { escapePath, execArg, mountUnitFor, mountUnitName } from './systemd.js';

describe('escapePath (systemd-escape --path)', () => {
  it.each([
    ['/var/lib/docker', 'var-lib-docker'],
    ['/', '-'],
    ['/mnt/my-data', 'mnt-my\\x2ddata'],
    ['//srv//data/', 'srv-data'],
    ['/.hidden/x', '\\x2ehidden-x'],
    ['/a b', 'a\\x20b'],
    ['/dev/disk/by-partlabel/docker', 'dev-disk-by\\x2dpartlabel-docker'],
    ['/data/é', 'data-\\xc3\\xa9'],
  ])('%s -> %s', (path, expected) => {
    expect(escapePath(path)).toBe(expected);
  });

  it('names mount units after their mount point', () => {
    expect(mountUnitName('/var/lib/docker')).toBe('var-lib-docker.mount');
  });
});

describe('execArg', () => {
  it('doubles specifiers and expansions and escapes quotes', () => {
    expect(execArg('a%b$c"d\\e')).toBe('"a%%b$$c\\"d\\\\e"');
  });
});

describe('mountUnitFor', () => {
  const fs = {
    device: '/dev/disk/by-partlabel/docker',
    format: 'ext4' as const,
    path: '/var/lib/docker',
    wipe: false,
    mountOptions: ['noatime', 'discard'],
  };
  it('mounts at every boot from local-fs.target', () => {
    const unit = mountUnitFor(fs);
    expect(unit?.name).toBe('var-lib-docker.mount');
    expect(unit?.enabled).toBe(true);
    expect(unit?.contents).toContain('WantedBy=local-fs.target');
    expect(unit?.contents).toContain(
      'What=/dev/disk/by-partlabel/docker\nWhere=/var/lib/docker\nType=ext4\nOptions=noatime,discard',
    );
  });
  it('makes a swap unit for swap and nothing for an unmounted filesystem', () => {
    expect(mountUnitFor({ ...fs, format: 'swap', path: undefined })?.name).toBe(
      'dev-disk-by\\x2dpartlabel-docker.swap',
    );
    expect(mountUnitFor({ ...fs, path: undefined })).toBeNull();
  });
});
