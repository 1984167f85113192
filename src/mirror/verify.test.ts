import { describe, expect, it } from 'vitest';
import { fedoraSigningFingerprints, fedoraSigningKeys } from './keys/fedora-signing.js';
import { flatcarImageSigningFingerprint, flatcarImageSigningKey } from './keys/flatcar-image-signing.js';
import { readKeys } from './verify.js';

describe('keys', () => {
  it('bundles Flatcar image signing key with the signing subkey valid from 2025-03-07', async () => {
    const [key] = await readKeys('flatcar-stable', flatcarImageSigningKey, () => Promise.reject(new Error('unused')));
    expect(key?.getFingerprint().toUpperCase()).toBe(flatcarImageSigningFingerprint);
    const subkeys = key?.getSubkeys().map((s) => s.getFingerprint().toUpperCase());
    expect(subkeys).toContain('52F145DFD00BBDCD928CBB5A32DA80F91EF52974');
    const signing = await key?.getSigningKey(undefined, new Date('2025-06-01T00:00:00Z'));
    expect(signing?.getFingerprint().toUpperCase()).toBe('52F145DFD00BBDCD928CBB5A32DA80F91EF52974');
  });

  it('bundles the Fedora release keys that sign Fedora CoreOS (43, 44, 45)', async () => {
    const keys = await readKeys('fcos-stable', fedoraSigningKeys, () => Promise.reject(new Error('unused')));
    expect(keys.map((k) => k.getFingerprint().toUpperCase())).toEqual(fedoraSigningFingerprints);
    expect(keys.map((k) => k.getUserIDs()[0])).toEqual([
      'Fedora (43) <fedora-43-primary@fedoraproject.org>',
      'Fedora (44) <fedora-44-primary@fedoraproject.org>',
      'Fedora (45) <fedora-45-primary@fedoraproject.org>',
    ]);
  });

  it('reads a key file by path, and names the source and file when it cannot', async () => {
    const keys = await readKeys('x', '/etc/kindling/flatcar.asc', async () => flatcarImageSigningKey);
    expect(keys).toHaveLength(1);
    await expect(
      readKeys('flatcar-beta', '/missing.asc', () =>
        Promise.reject(Object.assign(new Error('no'), { code: 'ENOENT' })),
      ),
    ).rejects.toThrow(
      'mirror source flatcar-beta: keys: cannot read /missing.asc (ENOENT); ' +
        'expected an armored OpenPGP public key file',
    );
    await expect(
      readKeys(
        'flatcar-beta',
        '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----',
        () => Promise.reject(new Error()),
      ),
    ).rejects.toMatchObject({ code: 'MIRROR_KEYS' });
  });
});
