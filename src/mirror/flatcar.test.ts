import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../errors.js';
import { flatcarRelease, parseVersionTxt, versionTxtUrl } from './flatcar.js';

const where = {
  source: 'flatcar-stable',
  url: 'https://stable.release.flatcar-linux.net/amd64-usr/current/version.txt',
};
const source = {
  name: 'flatcar-stable',
  os: 'flatcar' as const,
  channel: 'stable' as const,
  arch: 'amd64' as const,
  baseUrl: null,
  keys: null,
};

describe('parseVersionTxt', () => {
  it.each([
    ['FLATCAR_BUILD=3815\nFLATCAR_VERSION=3815.2.0\nFLATCAR_VERSION_ID=3815.2.0\n', '3815.2.0'],
    ['FLATCAR_VERSION=3033.3.18\r\n', '3033.3.18'],
    ['FLATCAR_VERSION="4152.0.0"\n', '4152.0.0'],
    ['FLATCAR_VERSION=3975.0.0+nightly-20240101\n', '3975.0.0+nightly-20240101'],
  ])('reads %j', (text, version) => {
    expect(parseVersionTxt(text, where)).toBe(version);
  });

  it.each([
    [''],
    ['<html>503</html>'],
    ['FLATCAR_VERSION=\n'],
    ['FLATCAR_VERSION=../../x\n'],
    ['FLATCAR_VERSION=1.2\n'],
    ['FLATCAR_VERSION=1.2.3/..\n'],
    ['VERSION=1.2.3\n'],
  ])('refuses %j with the source, file and expectation', (text) => {
    try {
      parseVersionTxt(text, where);
      expect.unreachable();
    } catch (err) {
      expect(isKindlingError(err, 'MIRROR_METADATA')).toBe(true);
      expect((err as Error).message).toMatch(
        new RegExp(
          /^mirror source flatcar-stable: version\.txt at https:\/\/.*: /.source +
            /expected FLATCAR_VERSION=MAJOR\.MINOR\.PATCH, found /.source,
        ),
      );
    }
  });
});

describe('flatcarRelease', () => {
  it('uses the official per-channel host unless baseUrl is set', () => {
    expect(versionTxtUrl(source)).toBe('https://stable.release.flatcar-linux.net/amd64-usr/current/version.txt');
    expect(versionTxtUrl({ ...source, channel: 'lts', arch: 'arm64', baseUrl: 'http://10.0.0.5/flatcar/lts/' })).toBe(
      'http://10.0.0.5/flatcar/lts/arm64-usr/current/version.txt',
    );
  });

  it('lists the PXE, install and update payload files, each with its .sig, and keeps version.txt', () => {
    const release = flatcarRelease(source, 'FLATCAR_VERSION=3815.2.0');
    expect(release.files.map((f) => [f.url, f.signatureUrl])).toEqual(
      [
        'flatcar_production_pxe.vmlinuz',
        'flatcar_production_pxe_image.cpio.gz',
        'flatcar_production_image.bin.bz2',
        'flatcar_production_update.gz',
      ].map((n) => [
        `https://stable.release.flatcar-linux.net/amd64-usr/3815.2.0/${n}`,
        `https://stable.release.flatcar-linux.net/amd64-usr/3815.2.0/${n}.sig`,
      ]),
    );
    expect(release.extras).toEqual([{ name: 'version.txt', content: 'FLATCAR_VERSION=3815.2.0\n' }]);
  });
});
