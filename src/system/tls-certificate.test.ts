import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { oid, time } from './der.js';
import { certificateNames, createSelfSignedCertificate, ipBytes, readOrCreateCertificate } from './tls-certificate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kindling-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = {
  dns: ['kindling', 'kindling.local', 'localhost'],
  ips: ['127.0.0.1', '::1', '10.77.0.1', '2001:db8::7'],
};

describe('the self-signed certificate', () => {
  it('is an X.509 v3 server certificate for every name and address, valid for about ten years', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    const made = createSelfSignedCertificate({ names, now });
    const x509 = new X509Certificate(made.cert);
    expect(x509.verify(x509.publicKey)).toBe(true); // self-signed: its own key signs it
    expect(x509.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(x509.ca).toBe(false);
    expect(x509.subjectAltName).toBe(
      'DNS:kindling, DNS:kindling.local, DNS:localhost, IP Address:127.0.0.1, IP ' +
        'Address:0:0:0:0:0:0:0:1, IP Address:10.77.0.1, IP Address:2001:DB8:0:0:0:0:0:7',
    );
    for (const host of ['kindling.local', 'localhost']) expect(x509.checkHost(host)).toBe(host);
    for (const ip of ['10.77.0.1', '2001:db8::7']) expect(x509.checkIP(ip)).toBe(ip);
    expect(x509.checkHost('evil.example')).toBeUndefined();
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(x509.validTo).getUTCFullYear()).toBe(2036);
    expect(made.fingerprint).toBe(x509.fingerprint256);
  });

  it("passes OpenSSL's check as a TLS server certificate", () => {
    const file = path.join(dir, 'openssl.pem');
    writeFileSync(file, createSelfSignedCertificate({ names, now: new Date() }).cert);
    const out = execFileSync('openssl', ['verify', '-CAfile', file, '-purpose', 'sslserver', file], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(`${file}: OK`);
  });

  it('is made again once expired, and kept while valid', async () => {
    const tls = path.join(dir, 'expiry');
    const [first, why] = await readOrCreateCertificate({ dir: tls, names, now: new Date('2026-01-01T00:00:00Z') });
    expect(why).toMatch(/no certificate/);
    const [same, again] = await readOrCreateCertificate({ dir: tls, names, now: new Date('2035-12-01T00:00:00Z') });
    expect([same.fingerprint, again]).toEqual([first.fingerprint, null]);
    const [renewed, expired] = await readOrCreateCertificate({
      dir: tls,
      names,
      now: new Date('2036-01-01T00:00:00Z'),
    });
    expect(expired).toMatch(/expired on 2035-12-30/);
    expect(renewed.fingerprint).not.toBe(first.fingerprint);
  });

  it(
    'names the host, NAME.local, kindling.local and the addresses, ' +
      'leaving out what is not a DNS name or link-local',
    () => {
      const interfaces = {
        eth0: [
          { address: '192.168.10.57', family: 'IPv4', internal: false },
          { address: 'fe80::1', family: 'IPv6', internal: false },
          { address: 'fd00::5', family: 'IPv6', internal: false },
        ],
        lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      } as never;
      expect(certificateNames({ hostname: 'Kindling', advertise: '10.77.0.1', interfaces })).toEqual({
        dns: ['kindling', 'kindling.local', 'localhost'],
        ips: ['127.0.0.1', '::1', '10.77.0.1', '192.168.10.57', 'fd00::5'],
      });
      expect(certificateNames({ hostname: 'bad_name', advertise: 'auto', interfaces: {} }).dns).toEqual([
        'kindling.local',
        'localhost',
      ]);
    },
  );
});

describe('DER pieces', () => {
  it.each([
    ['10.77.0.1', '0a4d0001'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::7', '20010db8000000000000000000000007'],
    ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('ipBytes(%s)', (ip, hex) => expect(ipBytes(ip).toString('hex')).toBe(hex));

  it('encodes times as UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    expect(time(new Date('2036-12-04T01:59:33Z')).toString('latin1')).toBe('\x17\x0d361204015933Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });

  it('encodes object identifiers with base-128 arcs', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
  });
});
