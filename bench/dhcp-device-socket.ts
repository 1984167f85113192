// What binding DHCP to `dhcp.interface` costs at start: one perl + node helper per port
// (src/dhcp/device-socket.ts), against a plain dgram bind. Packets afterwards take the
// same dgram path as before, so only the start is measured. Not a test: run by hand,
// `npx tsx bench/dhcp-device-socket.ts` (ROUNDS=20, DEVICE=lo; port 0, so no root).
import dgram from 'node:dgram';
import { openDeviceSocket } from '../src/dhcp/device-socket.js';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const DEVICE = process.env.DEVICE ?? 'lo';

const close = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function time(run: () => Promise<dgram.Socket>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    const s = await run();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    await close(s);
  }
  return ms;
}

const plain = await time(
  () =>
    new Promise((resolve) => {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      s.bind({ port: 0, address: '0.0.0.0' }, () => resolve(s));
    }),
);
const device = await time(() => openDeviceSocket(0, DEVICE));
console.log(`| case | n | median ms | p95 ms |\n|---|---|---|---|`);
for (const [name, xs] of [
  ['dgram bind 0.0.0.0', plain],
  [`SO_BINDTODEVICE ${DEVICE} via the helper`, device],
] as const) {
  console.log(`| ${name} | ${xs.length} | ${quantile(xs, 0.5).toFixed(2)} | ${quantile(xs, 0.95).toFixed(2)} |`);
}
