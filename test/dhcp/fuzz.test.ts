// Bad input never crashes the service: random and mutated packets through the codec and both
// handlers. A seeded PRNG makes any failure reproducible; the count and a time bound
// keep it short.
import { describe, expect, it } from 'vitest';
import { encodePacket, parsePacket } from '../../src/dhcp/packet.js';
import { guarded } from '../../src/dhcp/safe-handler.js';
import { from, fullSetup, proxySetup, silent } from './support/fakes.js';
import { clientPacket, MessageType, pxeUefi } from './support/packets.js';
import { prng } from '../support/prng.js';

const SEED = 20260322;
const COUNT = 100_000;

describe('fuzz', () => {
  it(`feeds ${COUNT} random and mutated packets through the codec and both handlers without a throw`, async () => {
    const rand = prng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    const mac = () => `52:54:${[0, 0, 0, 0].map(() => int(256).toString(16).padStart(2, '0')).join(':')}`;
    const seeds = [
      clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:01', ...pxeUefi, uuid: true }),
      clientPacket({
        type: MessageType.Request,
        mac: '52:54:00:00:00:01',
        requestedIp: '10.77.0.100',
        serverId: '10.77.0.2',
      }),
      clientPacket({ type: MessageType.Request, mac: '52:54:00:00:00:01', ciaddr: '10.77.0.100' }),
      clientPacket({
        type: MessageType.Inform,
        mac: '52:54:00:00:00:01',
        ciaddr: '10.77.0.50',
        userClass: 'iPXE',
        ipxe175: true,
      }),
      clientPacket({
        type: MessageType.Decline,
        mac: '52:54:00:00:00:01',
        requestedIp: '10.77.0.100',
        serverId: '10.77.0.2',
      }),
      clientPacket({
        type: MessageType.Release,
        mac: '52:54:00:00:00:01',
        ciaddr: '10.77.0.100',
        serverId: '10.77.0.2',
      }),
    ];
    const full = fullSetup({ range: { start: '10.77.0.10', end: '10.77.0.250' }, maxOffers: 256 });
    const proxy = proxySetup();
    const handlers = [guarded(full.handler, silent), guarded(proxy.handler, silent)];
    const started = Date.now();
    let parsedOk = 0;
    let replies = 0;
    for (let i = 0; i < COUNT; i++) {
      let data: Uint8Array;
      const kind = i % 4;
      if (kind === 0) {
        data = Uint8Array.from({ length: int(700) }, () => int(256));
        if (data.length >= 240 && rand() < 0.7) data.set([0x63, 0x82, 0x53, 0x63], 236);
      } else if (kind === 1) {
        // A flood of well-formed DISCOVERs and REQUESTs from random MACs.
        data = clientPacket({
          type: rand() < 0.7 ? MessageType.Discover : MessageType.Request,
          mac: mac(),
          requestedIp: `10.77.0.${int(256)}`,
          serverId: '10.77.0.2',
          ...(rand() < 0.5 ? pxeUefi : {}),
        });
      } else {
        const base = Buffer.from(seeds[int(seeds.length)]!);
        const flips = 1 + int(8);
        for (let f = 0; f < flips; f++) base[240 + int(base.length - 240)] = int(256);
        if (rand() < 0.2) base[2] = int(256); // hlen
        if (rand() < 0.2) base.set([52, 1, 1 + int(3)], 240); // overload into garbage
        data = rand() < 0.3 ? base.subarray(0, int(base.length)) : base;
      }
      const r = parsePacket(data);
      if (r.ok) {
        parsedOk++;
        // Whatever parses must re-encode and parse again.
        expect(parsePacket(encodePacket(r.packet, 1500).bytes).ok).toBe(true);
      }
      const out = await handlers[i % 2]!.handle({ data, from, localPort: rand() < 0.9 ? 67 : 4011 });
      replies += out.length;
      if (Date.now() - started > 90_000) throw new Error(`fuzz too slow: ${i} packets in 90 s`);
    }
    expect(handlers.map((h) => h.failures)).toEqual([0, 0]);
    expect(parsedOk).toBeGreaterThan(COUNT / 4);
    expect(replies).toBeGreaterThan(1000);
    expect(full.table.pendingOffers).toBeLessThanOrEqual(256);
    // And a real client is still served once the flood's leases have run out.
    full.advance(7_200_000);
    const after = await full.handler.handle({
      data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:ff:ff:ff' }),
      from,
      localPort: 67,
    });
    expect(after).toHaveLength(1);
  }, 120_000);
});
