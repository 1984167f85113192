import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import * as openpgp from 'openpgp';
import { KindlingError } from '../errors.js';

/** Large reads: hashing 400 MB in 64 KiB pieces costs noticeably more CPU on a Pi. */
export const readChunkBytes = 1 << 20;

export interface VerifyInput {
  source: string;
  name: string;
  file: string;
  /** From the release metadata; null when upstream publishes none. */
  sha256: string | null;
  /** The detached signature (binary or armored), or null to skip the check. */
  signature: Uint8Array | null;
  keys: openpgp.PublicKey[];
}

export interface Verified {
  sha256: string;
  size: number;
}

/**
 * Hashes the file and checks its detached signature in one read of the disk. The
 * signing subkey must have been valid when the signature was made, as gpg requires
 * (openpgp.js checks at the signature's creation time), so a release signed before a
 * yearly subkey expired still verifies.
 */
export async function verifyFile(input: VerifyInput): Promise<Verified> {
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    highWaterMark: readChunkBytes,
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const stream = createReadStream(input.file, { highWaterMark: readChunkBytes }).pipe(hashing);
  if (input.signature) {
    await checkSignature(input, stream);
  } else {
    for await (const _ of stream) void _;
  }
  const sha256 = hash.digest('hex');
  if (input.sha256 && sha256 !== input.sha256) {
    throw new KindlingError(
      'MIRROR_CHECKSUM',
      `mirror source ${input.source}: ${input.name}: expected sha256 ${input.sha256} from ` +
        `the stream metadata, computed ${sha256} over ${size} bytes`,
      {
        source: input.source,
        file: input.name,
        expected: input.sha256,
        found: sha256,
      },
    );
  }
  return { sha256, size };
}

async function checkSignature(input: VerifyInput, stream: Readable): Promise<void> {
  const fail = (what: string): KindlingError =>
    new KindlingError('MIRROR_SIGNATURE', `mirror source ${input.source}: ${input.name}: ${what}`, {
      source: input.source,
      file: input.name,
    });
  const signatureBytes = input.signature as Uint8Array;
  let signature: openpgp.Signature;
  try {
    const text = Buffer.from(signatureBytes.subarray(0, 32)).toString('latin1');
    signature = text.startsWith('-----BEGIN PGP')
      ? await openpgp.readSignature({ armoredSignature: Buffer.from(signatureBytes).toString('utf8') })
      : await openpgp.readSignature({ binarySignature: signatureBytes });
  } catch (err) {
    stream.destroy();
    throw fail(`${input.name}.sig is not an OpenPGP signature (${(err as Error).message})`);
  }
  const message = await openpgp.createMessage({
    binary: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>,
  });
  const trusted = input.keys.map((k) => k.getFingerprint().toUpperCase()).join(', ');
  try {
    const result = await openpgp.verify({ message, signature, verificationKeys: input.keys, format: 'binary' });
    // The data must be read to the end before the signature's hash is known.
    const reader = (result.data as ReadableStream<Uint8Array>).getReader();
    while (!(await reader.read()).done);
    const first = result.signatures[0];
    if (!first) throw new Error('the signature file holds no signature');
    await first.verified;
  } catch (err) {
    stream.destroy();
    const message = (err as Error).message;
    const keyId = /key ID ([0-9a-f]+)/i.exec(message)?.[1];
    if (keyId) throw fail(`signed by key ID ${keyId.toUpperCase()}, which is not one of the trusted keys (${trusted})`);
    throw fail(`bad signature: expected a valid signature by ${trusted} (${message})`);
  }
}

/** Reads the trusted keys: armored text inline, or the path of an armored key file. */
export async function readKeys(
  source: string,
  keys: string,
  readText: (file: string) => Promise<string>,
): Promise<openpgp.PublicKey[]> {
  let armored = keys;
  if (!keys.trimStart().startsWith('-----BEGIN PGP')) {
    try {
      armored = await readText(keys);
    } catch (err) {
      throw new KindlingError(
        'MIRROR_KEYS',
        `mirror source ${source}: keys: cannot read ${keys} ` +
          `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected an armored ` +
          `OpenPGP public key file`,
        { source, file: keys },
      );
    }
  }
  try {
    // A key file may hold several armored blocks one after another (Fedora's do).
    const blocks = armored.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [
      armored,
    ];
    return (await Promise.all(blocks.map((block) => openpgp.readKeys({ armoredKeys: block })))).flat();
  } catch (err) {
    throw new KindlingError(
      'MIRROR_KEYS',
      `mirror source ${source}: keys: expected armored OpenPGP public keys (${(err as Error).message})`,
      { source },
    );
  }
}
