import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetnsPair } from './netns.js';

// The parent's side of netns-kindling-process.ts: start a real Kindling inside a
// namespace and ask its admin API from outside, bounded in time.

const here = path.dirname(fileURLToPath(import.meta.url));

export interface NetnsKindling {
  httpUrl: string;
  httpsUrl: string;
  adminToken: string;
  dataDir: string;
  configFile: string;
  pid: number;
  api<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  stderr(): string;
  stop(): Promise<void>;
}

export function startNetnsKindling(
  pair: NetnsPair,
  input: { config: Record<string, unknown>; probeTimeoutMs?: number },
): Promise<NetnsKindling> {
  // NetnsPair.spawn gives no stdin; the requests go in on it.
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      pair.server.ns,
      process.execPath,
      '--import',
      'tsx',
      path.join(here, 'netns-kindling-process.ts'),
      JSON.stringify(input),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waiting = new Map<number, (a: { status: number; body: unknown }) => void>();
  let nextId = 1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Kindling did not start in the namespace in 30 s: ${stderr}`));
    }, 30_000);
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('ANSWER ')) {
          const a = JSON.parse(line.slice(7)) as { id: number; status: number; body: unknown };
          waiting.get(a.id)?.(a);
          waiting.delete(a.id);
        } else if (line.startsWith('READY ')) {
          clearTimeout(timer);
          const ready = JSON.parse(line.slice(6)) as Omit<NetnsKindling, 'api' | 'stop' | 'stderr'>;
          resolve({
            ...ready,
            stderr: () => stderr,
            api: <T>(method: string, url: string, body?: unknown) =>
              new Promise<{ status: number; body: T }>((res, rej) => {
                const id = nextId++;
                const t = setTimeout(() => rej(new Error(`${method} ${url}: no answer in 60 s: ${stderr}`)), 60_000);
                waiting.set(id, (a) => {
                  clearTimeout(t);
                  res(a as { status: number; body: T });
                });
                child.stdin?.write(`${JSON.stringify({ id, method, url, body })}\n`);
              }),
            stop: async () => {
              child.stdin?.end();
              await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
              if (child.exitCode === null) child.kill('SIGKILL');
            },
          });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Kindling exited with ${code} before READY: ${stderr}`));
    });
  });
}
