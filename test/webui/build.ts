import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const webuiDist = path.join(repoRoot, 'webui', 'dist');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds webui/dist when it is missing or older than webui/src (npm run build does the same). */
export async function ensureWebuiBuilt(): Promise<void> {
  const index = path.join(webuiDist, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(path.join(repoRoot, 'webui', 'src'))) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'webui', 'vite.config.ts'), logLevel: 'warn' });
}
