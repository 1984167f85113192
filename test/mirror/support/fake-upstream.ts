import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as openpgp from 'openpgp';

// A local stand-in for Flatcar's release servers and Fedora CoreOS's stream
// metadata: a Flatcar-shaped tree and a stream JSON, signed with a throwaway key made
// at test time. Faults are set per path. Nothing here reaches the internet.

export interface Fault {
  status?: number;
  /** Send the announced Content-Length but close the connection after this many bytes. */
  truncateAt?: number;
  /** Bytes per second; the body is sent in 16 KiB pieces. */
  bytesPerSecond?: number;
  /** Ignore Range and always answer 200 with the whole body. */
  noRange?: boolean;
}

export interface RequestRecord {
  method: string;
  url: string;
  range: string | undefined;
}

export interface Signer {
  key: openpgp.PrivateKey;
  armoredPublic: string;
}

export async function makeSigner(name: string): Promise<Signer> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name}@test.invalid` }],
    format: 'object',
  });
  return { key: privateKey, armoredPublic: publicKey.armor() };
}

export async function sign(signer: Signer, data: Uint8Array): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: data });
  return (await openpgp.sign({ message, signingKeys: signer.key, detached: true, format: 'binary' })) as Uint8Array;
}

export const flatcarNames = [
  'flatcar_production_pxe.vmlinuz',
  'flatcar_production_pxe_image.cpio.gz',
  'flatcar_production_image.bin.bz2',
  'flatcar_production_update.gz',
] as const;

/** Sizes kept small: the suite builds everything at run time. */
export const defaultSizes: Record<string, number> = {
  'flatcar_production_pxe.vmlinuz': 48 << 10,
  'flatcar_production_pxe_image.cpio.gz': 96 << 10,
  'flatcar_production_image.bin.bz2': 1 << 20,
  'flatcar_production_update.gz': 192 << 10,
};

export class FakeUpstream {
  readonly files = new Map<string, Buffer>();
  readonly faults = new Map<string, Fault>();
  readonly requests: RequestRecord[] = [];
  private server: http.Server | null = null;
  port = 0;
  private secure = false;

  constructor(readonly signer: Signer) {}

  get url(): string {
    return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** With `tls`, serves HTTPS (an upstream behind a CONNECT proxy). */
  async start(tls?: { key: string; cert: string }): Promise<void> {
    this.secure = tls !== undefined;
    this.server = tls
      ? https.createServer(tls, (req, res) => this.handle(req, res))
      : http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  count(pathPart: string): number {
    return this.requests.filter((r) => r.url.includes(pathPart)).length;
  }

  /** Adds a Flatcar release under /CHANNEL/ARCH-usr/VERSION and, unless told not to, makes it current. */
  async addFlatcar(
    version: string,
    options: { channel?: string; arch?: string; current?: boolean; sizes?: Record<string, number> } = {},
  ): Promise<Map<string, Buffer>> {
    const base = `/${options.channel ?? 'stable'}/${options.arch ?? 'amd64'}-usr`;
    const made = new Map<string, Buffer>();
    for (const name of flatcarNames) {
      const data = randomBytes((options.sizes ?? defaultSizes)[name] ?? 1024);
      this.files.set(`${base}/${version}/${name}`, data);
      this.files.set(`${base}/${version}/${name}.sig`, Buffer.from(await sign(this.signer, data)));
      made.set(name, data);
    }
    if (options.current !== false) this.setFlatcarCurrent(version, options);
    return made;
  }

  setFlatcarCurrent(version: string, options: { channel?: string; arch?: string } = {}): void {
    const [build, branch, patch] = version.split('.');
    const text =
      `FLATCAR_BUILD=${build}\nFLATCAR_BRANCH=${branch}\nFLATCAR_PATCH=${patch}\n` +
      `FLATCAR_VERSION=${version}\nFLATCAR_VERSION_ID=${version}\n` +
      `FLATCAR_BUILD_ID="2024-01-01-0000"\nFLATCAR_SDK_VERSION=${version}\n`;
    this.files.set(
      `/${options.channel ?? 'stable'}/${options.arch ?? 'amd64'}-usr/current/version.txt`,
      Buffer.from(text),
    );
  }

  /** Adds a Fedora CoreOS release and writes /streams/STREAM.json pointing at it. */
  async addFcos(
    version: string,
    options: { stream?: string; arch?: string; corruptSha?: string } = {},
  ): Promise<Record<string, string>> {
    const stream = options.stream ?? 'stable';
    const arch = options.arch ?? 'x86_64';
    const dir = `/prod/streams/${stream}/builds/${version}/${arch}`;
    const names = {
      kernel: `fedora-coreos-${version}-live-kernel-${arch}`,
      initramfs: `fedora-coreos-${version}-live-initramfs.${arch}.img`,
      rootfs: `fedora-coreos-${version}-live-rootfs.${arch}.img`,
      disk: `fedora-coreos-${version}-metal.${arch}.raw.xz`,
    };
    const artifact = async (
      kind: keyof typeof names,
      size: number,
    ): Promise<{ location: string; signature: string; sha256: string }> => {
      const data = randomBytes(size);
      this.files.set(`${dir}/${names[kind]}`, data);
      this.files.set(`${dir}/${names[kind]}.sig`, Buffer.from(await sign(this.signer, data)));
      const sha256 = options.corruptSha === kind ? 'f'.repeat(64) : createHash('sha256').update(data).digest('hex');
      return {
        location: `${this.url}${dir}/${names[kind]}`,
        signature: `${this.url}${dir}/${names[kind]}.sig`,
        sha256,
      };
    };
    const doc = {
      stream,
      metadata: { 'last-modified': new Date().toISOString() },
      architectures: {
        [arch]: {
          artifacts: {
            metal: {
              release: version,
              formats: {
                pxe: {
                  kernel: await artifact('kernel', 32 << 10),
                  initramfs: await artifact('initramfs', 64 << 10),
                  rootfs: await artifact('rootfs', 128 << 10),
                },
                'raw.xz': { disk: await artifact('disk', 256 << 10) },
                iso: { disk: { location: `${this.url}/unused.iso`, sha256: '0'.repeat(64) } },
              },
            },
            qemu: { release: version, formats: {} },
          },
        },
      },
    };
    this.files.set(`/streams/${stream}.json`, Buffer.from(JSON.stringify(doc)));
    return names;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = (req.url ?? '/').split('?')[0] as string;
    this.requests.push({ method: req.method ?? 'GET', url, range: req.headers.range });
    const fault = this.faults.get(url) ?? {};
    const body = this.files.get(url);
    if (fault.status) {
      res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(`fault ${fault.status}\n`);
      return;
    }
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let start = 0;
    let end = body.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !fault.noRange) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${body.length}`,
      });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const slice = body.subarray(start, end + 1);
    const cut = fault.truncateAt !== undefined ? Math.max(0, fault.truncateAt - start) : slice.length;
    const send = slice.subarray(0, Math.min(cut, slice.length));
    // A short body: flush what was sent, then close the connection under the response.
    const finish = (): void => {
      if (send.length < slice.length) res.write(Buffer.alloc(0), () => res.socket?.end());
      else res.end();
    };
    if (!fault.bytesPerSecond) {
      res.write(send);
      finish();
      return;
    }
    const piece = 16 << 10;
    const interval = Math.max(1, Math.round((piece / fault.bytesPerSecond) * 1000));
    let offset = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(send.subarray(offset, offset + piece));
      offset += piece;
      if (offset >= send.length) {
        clearInterval(timer);
        finish();
      }
    }, interval);
    res.on('close', () => clearInterval(timer));
  }
}
