import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSigner, sign } from '../../mirror/support/fake-upstream.js';

// The stand-in OS (test/fixtures/standin-os) published as a Flatcar release in a
// fake upstream tree, signed with a throwaway key made here, for Kindling's real
// mirror to sync. Version and layout as on Flatcar's release servers:
//   ROOT/stable/amd64-usr/current/version.txt
//   ROOT/stable/amd64-usr/VERSION/flatcar_production_{pxe.vmlinuz,pxe_image.cpio.gz,image.bin.bz2}{,.sig}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const standinVersion = '9999.0.0';

/** Builds (or finds in the cache) the stand-in OS and returns its directory. */
export function buildStandin(): string {
  const out = execFileSync('bash', [path.join(repo, 'test/fixtures/standin-os/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  return out.trim().split('\n').pop() as string;
}

export interface Upstream {
  root: string;
  /** What Kindling's mirror source says: baseUrl and the armored public key. */
  baseUrl: string;
  keys: string;
  /** Publishes the stand-in's files again as VERSION, signed, and makes it `current`. */
  publish(version: string): Promise<void>;
}

export async function writeUpstream(options: {
  standinDir: string;
  root: string;
  host: string;
  port: number;
}): Promise<Upstream> {
  const signer = await makeSigner('kindling-e2e-upstream');
  const base = path.join(options.root, 'stable', 'amd64-usr');
  const files: Record<string, string> = {
    'flatcar_production_pxe.vmlinuz': 'vmlinuz',
    'flatcar_production_pxe_image.cpio.gz': 'initramfs.cpio.gz',
    'flatcar_production_image.bin.bz2': 'disk.img.bz2',
    // update_engine's payload; the stand-in's Omaha client downloads and checks it, never applies it.
    'flatcar_production_update.gz': 'initramfs.cpio.gz',
  };
  const publish = async (version: string): Promise<void> => {
    const dir = path.join(base, version);
    mkdirSync(dir, { recursive: true });
    mkdirSync(path.join(base, 'current'), { recursive: true });
    for (const [name, built] of Object.entries(files)) {
      const data = readFileSync(path.join(options.standinDir, built));
      writeFileSync(path.join(dir, name), data);
      writeFileSync(path.join(dir, `${name}.sig`), await sign(signer, data));
    }
    const [build, branch, patch] = version.split('.');
    // The static server reads files as asked: version.txt last, so a sync never sees a half-written release.
    const tmp = path.join(base, 'current', 'version.txt.tmp');
    writeFileSync(
      tmp,
      `FLATCAR_BUILD=${build}\nFLATCAR_BRANCH=${branch}\nFLATCAR_PATCH=${patch}\n` +
        `FLATCAR_VERSION=${version}\nFLATCAR_VERSION_ID=${version}\n`,
    );
    renameSync(tmp, path.join(base, 'current', 'version.txt'));
  };
  await publish(standinVersion);
  return {
    root: options.root,
    baseUrl: `http://${options.host}:${options.port}/stable`,
    keys: signer.armoredPublic,
    publish,
  };
}

export const staticServerScript = path.join(repo, 'test/e2e/support/static-server.mjs');
export const repoRoot = repo;
