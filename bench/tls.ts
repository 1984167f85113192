// HTTPS bench: what the certificate costs at first start, and what a TLS
// handshake adds to one admin request. Not a test: `npx tsx bench/tls.ts` (ROUNDS=N).
// Prints a markdown table for docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { certificateNames, createSelfSignedCertificate } from '../src/system/tls-certificate.js';
import { startTestKindling } from '../test/support/kindling.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 200);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

function once(url: string, ca: string | undefined): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // agent: false: a new connection, so each HTTPS round pays a full handshake.
    const get = url.startsWith('https:') ? https.get(url, { ca, agent: false }) : http.get(url, { agent: false });
    get.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    get.on('error', reject);
  });
}

const names = certificateNames();
const made: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  createSelfSignedCertificate({ names, now: new Date() });
  made.push(performance.now() - t);
}

const k = await startTestKindling();
const ca = readFileSync(`${k.dataDir}/state/tls/cert.pem`, 'utf8');
const rows: Array<[string, number[]]> = [['new certificate (key + sign + parse)', made]];
for (const [label, url] of [
  ['GET /api/session, plain HTTP, new connection', `${k.httpUrl}/api/session`],
  ['GET /api/session, HTTPS, new connection (full handshake)', `${k.httpsUrl}/api/session`],
] as const) {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) await once(url, ca); // warm-up
  for (let i = 0; i < ROUNDS; i++) times.push(await once(url, ca));
  rows.push([label, times]);
}
await k.stop();

console.log(`| case | n | median ms | p95 ms |\n|---|---|---|---|`);
for (const [label, times] of rows)
  console.log(`| ${label} | ${times.length} | ${median(times).toFixed(2)} | ${p95(times).toFixed(2)} |`);
console.log(`\nnode ${process.version}, ${process.arch}`);
