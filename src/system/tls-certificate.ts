import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';
import {
  bitString,
  boolean,
  explicit,
  implicit,
  octetString,
  oid,
  sequence,
  set,
  time,
  unsignedInteger,
  utf8String,
  type Der,
} from './der.js';

// The setup page's HTTPS certificate: self-signed, made on the first start and kept in
// DATADIR/state/tls/ (key 0600). Browsers warn about it once; the SHA-256 fingerprint on
// the console tells the admin which certificate is the box's own (docs/appliance.md, "HTTPS").

/** About ten years: the box should not start warning about an expired certificate. */
export const certificateValidDays = 3650;
/** A day of slack for a browser whose clock is a little behind the box's. */
const backdateMs = 24 * 3600 * 1000;
/** The name avahi announces (appliance/avahi-kindling.service). */
const applianceName = 'kindling.local';

export interface TlsCertificate {
  /** PKCS#8 PEM. */
  key: string;
  /** X.509 PEM. */
  cert: string;
  /** SHA-256 of the certificate's DER, as browsers show it (AB:CD:...). */
  fingerprint: string;
  validTo: Date;
  /** The names and addresses in its subjectAltName. */
  names: CertificateNames;
}

export interface CertificateNames {
  dns: string[];
  ips: string[];
}

export const tlsFiles = { key: 'key.pem', cert: 'cert.pem', fingerprint: 'fingerprint' } as const;

const hostLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const isDnsName = (name: string) => name.length <= 253 && name.split('.').every((label) => hostLabel.test(label));

/**
 * What the certificate names: the host name (and NAME.local, which avahi answers),
 * kindling.local, localhost, the advertised name, and every address the box has now.
 */
export function certificateNames(
  options: { hostname?: string; advertise?: string; interfaces?: ReturnType<typeof os.networkInterfaces> } = {},
): CertificateNames {
  const hostname = (options.hostname ?? os.hostname()).toLowerCase();
  const dns = new Set<string>();
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const name of [
    hostname,
    hostname.includes('.') ? '' : `${hostname}.local`,
    applianceName,
    'localhost',
    options.advertise ?? '',
  ]) {
    const lower = name.toLowerCase();
    if (isIP(lower)) ips.add(lower);
    else if (lower && lower !== 'auto' && isDnsName(lower)) dns.add(lower);
  }
  for (const addresses of Object.values(options.interfaces ?? os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      // fe80:: addresses need a zone in a URL, which no browser takes; they would only add noise.
      if (!a.internal && !a.address.toLowerCase().startsWith('fe80:')) ips.add(a.address);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}

/**
 * The certificate in `dir`, or a new one when there is none, it does not parse, its key
 * does not match, or it has expired. Returns [certificate, why it was made or null].
 */
export async function readOrCreateCertificate(options: {
  dir: string;
  names: CertificateNames;
  now?: Date;
}): Promise<[TlsCertificate, string | null]> {
  const now = options.now ?? new Date();
  const keyFile = path.join(options.dir, tlsFiles.key);
  const certFile = path.join(options.dir, tlsFiles.cert);
  await fs.mkdir(options.dir, { recursive: true, mode: 0o700 });
  let reason: string;
  try {
    const existing = parseCertificate(await fs.readFile(keyFile, 'utf8'), await fs.readFile(certFile, 'utf8'));
    if (existing.validTo.getTime() > now.getTime()) {
      await writeFingerprint(options.dir, existing.fingerprint);
      return [existing, null];
    }
    reason = `${certFile} expired on ${existing.validTo.toISOString()}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reason =
      code === 'ENOENT'
        ? `no certificate in ${options.dir} yet`
        : `${certFile} or ${keyFile} is unusable (${(err as Error).message})`;
  }
  const made = createSelfSignedCertificate({ names: options.names, now });
  // Key first: a crash between the two writes leaves a key without its certificate,
  // which the next start replaces like any unusable pair.
  await writeFileAtomic(keyFile, made.key, 0o600);
  await writeFileAtomic(certFile, made.cert, 0o644);
  await writeFingerprint(options.dir, made.fingerprint);
  return [made, reason];
}

async function writeFingerprint(dir: string, fingerprint: string): Promise<void> {
  const file = path.join(dir, tlsFiles.fingerprint);
  const current = await fs.readFile(file, 'utf8').catch(() => '');
  if (current !== `${fingerprint}\n`) await writeFileAtomic(file, `${fingerprint}\n`, 0o644);
}

/** Parses a stored pair; throws when either does not parse or the key is not the certificate's. */
export function parseCertificate(key: string, cert: string): TlsCertificate {
  const x509 = new X509Certificate(cert);
  const privateKey = createPrivateKey(key);
  if (!x509.checkPrivateKey(privateKey)) throw new Error("the key is not the certificate's");
  const names: CertificateNames = { dns: [], ips: [] };
  for (const entry of (x509.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.dns.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) names.ips.push(entry.slice(11).toLowerCase());
  }
  return { key, cert, fingerprint: x509.fingerprint256, validTo: new Date(x509.validTo), names };
}

/** A new ECDSA P-256 key and a self-signed X.509 v3 server certificate for `names`. */
export function createSelfSignedCertificate(options: {
  names: CertificateNames;
  now: Date;
  validDays?: number;
}): TlsCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = new Date(options.now.getTime() - backdateMs);
  const notAfter = new Date(options.now.getTime() + (options.validDays ?? certificateValidDays) * 24 * 3600 * 1000);
  const cn = `Kindling ${options.names.dns[0] ?? applianceName}`.slice(0, 64); // ub-common-name (RFC 5280 App. A)
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8String(cn))));
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2')); // parameters absent (RFC 5758 §3.2)
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 bytes; 16 random ones, top bit clear.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    ecdsaWithSha256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions(options.names))),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const der = sequence(tbs, ecdsaWithSha256, bitString(signature));
  const cert =
    `-----BEGIN ` +
    `CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ` +
    `CERTIFICATE-----\n`;
  return parseCertificate(pemKey(privateKey), cert);
}

const pemKey = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** RFC 5280 §4.2: what the certificate may do (a TLS server, not a CA) and for which names. */
function extensions(names: CertificateNames): Der[] {
  const extension = (id: string, critical: boolean, value: Der) =>
    sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
  const altNames = [
    ...names.dns.map((dns) => implicit(2, Buffer.from(dns, 'ascii'))), // dNSName
    ...names.ips.map((ip) => implicit(7, ipBytes(ip))), // iPAddress
  ];
  return [
    extension('2.5.29.19', true, sequence()), // basicConstraints: cA FALSE, so browsers take it as a server's
    extension('2.5.29.15', true, bitString(Buffer.from([0x80]))), // keyUsage: digitalSignature (ECDHE)
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, sequence(...altNames)), // subjectAltName
  ];
}

/** Network-order bytes of an IPv4 or IPv6 address (RFC 5280 §4.2.1.6). */
export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new Error(`${ip}: expected an IPv4 or IPv6 address`);
  // An embedded IPv4 tail (::ffff:10.0.0.1) is the last two groups.
  const text = ip.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
  );
  const [head = '', tail] = text.split('::');
  const split = (s: string) => (s ? s.split(':') : []);
  const groups =
    tail === undefined
      ? split(head)
      : [...split(head), ...Array<string>(8 - split(head).length - split(tail).length).fill('0'), ...split(tail)];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}
