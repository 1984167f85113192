// Relay pools (dhcp.relayPools): which pool a request is served from, the
// configuration checks, the handler end to end with fakes, and one journal for all
// pools (old journals, from before relay pools, still replay).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { describeIssues } from '../../src/config/yaml-document.js';
import { LeaseJournal, type JournalRecord } from '../../src/dhcp/lease-journal.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { MessageType, messageType, Opt, optionIp, optionString } from '../../src/dhcp/options.js';
import { choosePool, PerKeyLogLimit, recordsByPool } from '../../src/dhcp/pools.js';
import type { DhcpHandler, Outgoing } from '../../src/dhcp/reply.js';
import { makePool, makeRelayPool, relayPoolProblems, subnetsOverlap } from '../../src/net/ipv4.js';
import { from, fullSetup, SERVER, type FakeRelayPool } from './support/fakes.js';
import { clientPacket, parsed, type ClientPacketOptions } from './support/packets.js';

const LOCAL = makePool({
  range: { start: '10.77.0.100', end: '10.77.0.110' },
  subnetMask: '255.255.255.0',
  serverIp: SERVER,
});
const RACK2: FakeRelayPool = {
  range: { start: '10.78.2.100', end: '10.78.2.200' },
  subnetMask: '255.255.255.0',
  router: '10.78.2.1',
  dns: ['10.78.2.1'],
};
const RACK3: FakeRelayPool = {
  range: { start: '172.16.0.10', end: '172.16.3.250' },
  subnetMask: '255.255.252.0',
  router: '172.16.0.1',
  dns: ['172.16.0.1', '9.9.9.9'],
  domain: 'rack3.test',
  leaseSeconds: 600,
};
const POOLS = [{ pool: LOCAL }, { pool: makeRelayPool(RACK2, 0, SERVER) }, { pool: makeRelayPool(RACK3, 1, SERVER) }];

describe('choosePool', () => {
  it.each([
    ['not relayed, no ciaddr: local', { giaddr: '0.0.0.0', ciaddr: '0.0.0.0' }, { index: 0, by: 'local' }],
    [
      'not relayed, ciaddr on the local net: local',
      { giaddr: '0.0.0.0', ciaddr: '10.77.0.105' },
      { index: 0, by: 'local' },
    ],
    ['relayed from the local subnet: local', { giaddr: '10.77.0.1', ciaddr: '0.0.0.0' }, { index: 0, by: 'giaddr' }],
    ['relayed from rack 2: rack 2', { giaddr: '10.78.2.1', ciaddr: '0.0.0.0' }, { index: 1, by: 'giaddr' }],
    [
      'relay address outside the range but in the subnet: that pool',
      { giaddr: '10.78.2.254', ciaddr: '0.0.0.0' },
      { index: 1, by: 'giaddr' },
    ],
    [
      'relayed from a /22 (last quarter): rack 3',
      { giaddr: '172.16.3.1', ciaddr: '0.0.0.0' },
      { index: 2, by: 'giaddr' },
    ],
    [
      'giaddr decides even when ciaddr says otherwise',
      { giaddr: '10.78.2.1', ciaddr: '172.16.0.50' },
      { index: 1, by: 'giaddr' },
    ],
    [
      'renewing by unicast from rack 3 (giaddr 0): by ciaddr',
      { giaddr: '0.0.0.0', ciaddr: '172.16.1.7' },
      { index: 2, by: 'ciaddr' },
    ],
    [
      'ciaddr on no known net, not relayed: local (which will NAK it)',
      { giaddr: '0.0.0.0', ciaddr: '192.168.5.5' },
      { index: 0, by: 'local' },
    ],
    [
      'relayed from an unknown network: none',
      { giaddr: '10.99.0.1', ciaddr: '0.0.0.0' },
      { index: null, by: 'unknown-relay' },
    ],
    [
      'relayed from just past the /22: none',
      { giaddr: '172.16.4.1', ciaddr: '0.0.0.0' },
      { index: null, by: 'unknown-relay' },
    ],
  ])('%s', (_name, req, expected) => {
    expect(choosePool(req, POOLS)).toEqual(expected);
  });

  it('with no relay pools, only the local subnet is served', () => {
    expect(choosePool({ giaddr: '10.78.2.1', ciaddr: '0.0.0.0' }, [{ pool: LOCAL }])).toEqual({
      index: null,
      by: 'unknown-relay',
    });
    expect(choosePool({ giaddr: '0.0.0.0', ciaddr: '10.78.2.100' }, [{ pool: LOCAL }])).toEqual({
      index: 0,
      by: 'local',
    });
  });

  it.each([
    [
      '10.0.0.0/8 and 10.78.2.0/24',
      { network: 0x0a000000, mask: 0xff000000 },
      { network: 0x0a4e0200, mask: 0xffffff00 },
      true,
    ],
    [
      '10.78.2.0/24 and 10.78.3.0/24',
      { network: 0x0a4e0200, mask: 0xffffff00 },
      { network: 0x0a4e0300, mask: 0xffffff00 },
      false,
    ],
    [
      '172.16.0.0/22 and 172.16.3.0/24',
      { network: 0xac100000, mask: 0xfffffc00 },
      { network: 0xac100300, mask: 0xffffff00 },
      true,
    ],
  ])('subnetsOverlap %s', (_n, a, b, expected) => {
    expect(subnetsOverlap(a, b)).toBe(expected);
    expect(subnetsOverlap(b, a)).toBe(expected);
  });
});

describe('dhcp.relayPools in the configuration', () => {
  const parse = (relayPools: unknown[], over: Record<string, unknown> = {}) =>
    configSchema.safeParse({ dhcp: { relayPools, ...over } });
  const problems = (relayPools: unknown[], over: Record<string, unknown> = {}) => {
    const r = parse(relayPools, over);
    return r.success ? [] : describeIssues('kindling.yaml', r.error.issues);
  };

  it('defaults to none, and accepts pools with optional domain and lease time', () => {
    expect(configSchema.parse({}).dhcp.relayPools).toEqual([]);
    const r = parse([RACK2, RACK3]);
    expect(r.success).toBe(true);
    expect(r.data?.dhcp.relayPools[0]).toEqual(RACK2);
    expect(r.data?.dhcp.relayPools[1]).toMatchObject({ domain: 'rack3.test', leaseSeconds: 600 });
  });

  it.each([
    [
      'start after end',
      [{ ...RACK2, range: { start: '10.78.2.200', end: '10.78.2.100' } }],
      'key "dhcp.relayPools.0.range": dhcp.relayPools[0].range is empty: start ' +
        '10.78.2.200 is after end 10.78.2.100; expected start <= end',
    ],
    [
      'range outside its subnet',
      [{ ...RACK2, range: { start: '10.78.2.100', end: '10.78.3.20' } }],
      'key "dhcp.relayPools.0.range.end": dhcp.relayPools[0].range.end ' +
        "10.78.3.20 is outside the pool's subnet 10.78.2.0/24",
    ],
    [
      'range with the broadcast address',
      [{ ...RACK2, range: { start: '10.78.2.100', end: '10.78.2.255' } }],
      'includes the network or broadcast address of 10.78.2.0/24',
    ],
    [
      'router outside the subnet',
      [{ ...RACK2, router: '10.78.9.1' }],
      'key "dhcp.relayPools.0.router": dhcp.relayPools[0].router 10.78.9.1 is outside the pool\'s subnet 10.78.2.0/24',
    ],
    [
      'router inside the range',
      [{ ...RACK2, router: '10.78.2.150' }],
      'dhcp.relayPools[0].router 10.78.2.150 lies inside dhcp.relayPools[0].range',
    ],
    [
      'broken mask',
      [{ ...RACK2, subnetMask: '255.0.255.0' }],
      'key "dhcp.relayPools.0.subnetMask": dhcp.relayPools[0].subnetMask 255.0.255.0 is not a netmask',
    ],
    [
      'overlapping another pool',
      [RACK2, { ...RACK2, range: { start: '10.78.2.150', end: '10.78.2.160' } }],
      'key "dhcp.relayPools.1.range": dhcp.relayPools[1].range 10.78.2.150-10.78.2.160 ' +
        'overlaps dhcp.relayPools[0].range 10.78.2.100-10.78.2.200',
    ],
    [
      "sharing another pool's subnet",
      [RACK2, { ...RACK2, range: { start: '10.78.2.210', end: '10.78.2.220' } }],
      'dhcp.relayPools[1] subnet 10.78.2.0/24 overlaps dhcp.relayPools[0] subnet 10.78.2.0/24',
    ],
    [
      "a wider subnet holding another pool's",
      [
        RACK2,
        { ...RACK2, range: { start: '10.78.0.10', end: '10.78.0.20' }, subnetMask: '255.255.0.0', router: '10.78.0.1' },
      ],
      'dhcp.relayPools[1] subnet 10.78.0.0/16 overlaps dhcp.relayPools[0] subnet 10.78.2.0/24',
    ],
    [
      'overlapping dhcp.range',
      [{ ...RACK2, range: { start: '10.77.0.200', end: '10.77.0.210' }, router: '10.77.0.1' }],
      'dhcp.relayPools[0].range 10.77.0.200-10.77.0.210 overlaps dhcp.range 10.77.0.100-10.77.0.250',
    ],
    [
      'on the local subnet',
      [{ ...RACK2, range: { start: '10.77.0.10', end: '10.77.0.20' }, router: '10.77.0.1' }],
      'dhcp.relayPools[0] subnet 10.77.0.0/24 overlaps the local subnet 10.77.0.0/24 of dhcp.range',
    ],
    [
      'missing its router key',
      [{ range: RACK2.range, subnetMask: '255.255.255.0', dns: [] }],
      'key "dhcp.relayPools.0.router"',
    ],
    ['an unknown key', [{ ...RACK2, gateway: '10.78.2.1' }], 'unknown key "dhcp.relayPools.0.gateway"'],
  ])('refuses %s, naming the key path', (_name, pools, message) => {
    const lines = problems(pools);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });

  it('reports every bad pool, not just the first', () => {
    const lines = problems([
      { ...RACK2, router: '1.2.3.4' },
      RACK3,
      { ...RACK3, range: { start: '172.16.0.5', end: '172.16.0.1' } },
    ]);
    expect(lines.map((l) => l.match(/key "([^"]+)"/)?.[1])).toEqual([
      'dhcp.relayPools.0.router',
      'dhcp.relayPools.2.range',
    ]);
  });

  it("refuses at start a relay pool on the server's own subnet", () => {
    expect(() =>
      makeRelayPool({ ...RACK2, range: { start: '10.77.0.10', end: '10.77.0.20' }, router: null }, 3, SERVER),
    ).toThrow(/dhcp.relayPools\[3\] subnet 10.77.0.0\/24 contains the server's own address 10.77.0.2/);
    expect(
      relayPoolProblems({ range: { start: '10.77.0.100', end: '10.77.0.250' }, subnetMask: '255.255.255.0' }, [
        RACK2,
        RACK3,
      ]),
    ).toEqual([]);
  });
});

async function ask(handler: DhcpHandler, o: ClientPacketOptions): Promise<Outgoing[]> {
  return handler.handle({ data: clientPacket(o), from, localPort: 67 });
}
async function one(handler: DhcpHandler, o: ClientPacketOptions) {
  const out = await ask(handler, o);
  expect(out).toHaveLength(1);
  return { packet: parsed(out[0]!.data), to: out[0]!.to };
}
const AGENT = [82, Uint8Array.of(1, 4, 0, 0, 0, 7, 2, 2, 0xab, 0xcd)] as [number, Uint8Array];

describe('full mode with relay pools', () => {
  it(
    "serves a relayed client from the pool of its giaddr, with that pool's " +
      'options, to the relay, with option 82 echoed',
    async () => {
      const s = fullSetup({ relayPools: [RACK2, RACK3] });
      const mac = '52:54:00:00:aa:01';
      const offer = await one(s.handler, { type: MessageType.Discover, mac, giaddr: '172.16.0.1', extra: [AGENT] });
      expect(messageType(offer.packet)).toBe(MessageType.Offer);
      expect(offer.packet.yiaddr).toBe('172.16.0.10');
      expect(offer.to).toEqual({ address: '172.16.0.1', port: 67 });
      expect(offer.packet.giaddr).toBe('172.16.0.1');
      expect(Array.from(offer.packet.options.get(82)!)).toEqual(Array.from(AGENT[1]));
      expect(optionIp(offer.packet, Opt.SubnetMask)).toBe('255.255.252.0');
      expect(optionIp(offer.packet, Opt.Router)).toBe('172.16.0.1');
      expect(optionIp(offer.packet, Opt.Broadcast)).toBe('172.16.3.255');
      expect(Array.from(offer.packet.options.get(Opt.Dns)!)).toEqual([172, 16, 0, 1, 9, 9, 9, 9]);
      expect(optionString(offer.packet, Opt.DomainName)).toBe('rack3.test');
      expect(Buffer.from(offer.packet.options.get(Opt.LeaseTime)!).readUInt32BE(0)).toBe(600);
      expect(optionIp(offer.packet, Opt.ServerId)).toBe(SERVER);

      const ack = await one(s.handler, {
        type: MessageType.Request,
        mac,
        giaddr: '172.16.0.1',
        requestedIp: '172.16.0.10',
        serverId: SERVER,
        extra: [AGENT],
      });
      expect(messageType(ack.packet)).toBe(MessageType.Ack);
      expect(ack.to).toEqual({ address: '172.16.0.1', port: 67 });
      expect(Array.from(ack.packet.options.get(82)!)).toEqual(Array.from(AGENT[1]));
      expect(s.records).toEqual([
        expect.objectContaining({ t: 'bind', mac, ip: '172.16.0.10', exp: s.now() + 600_000 }),
      ]);
      expect(s.relayTables[1]!.leaseOf(mac)).toMatchObject({ expiresAt: s.now() + 600_000 });
      expect(s.table.leaseOf(mac)).toBeUndefined();

      // T1: renewing by unicast straight to the server (no relay), then rebinding through the relay.
      const renew = await one(s.handler, { type: MessageType.Request, mac, ciaddr: '172.16.0.10' });
      expect(messageType(renew.packet)).toBe(MessageType.Ack);
      expect(renew.to).toEqual({ address: '172.16.0.10', port: 68 });
      expect(optionIp(renew.packet, Opt.Router)).toBe('172.16.0.1');
      const rebind = await one(s.handler, {
        type: MessageType.Request,
        mac,
        ciaddr: '172.16.0.10',
        giaddr: '172.16.0.1',
      });
      expect(messageType(rebind.packet)).toBe(MessageType.Ack);
    },
  );

  it(
    'keeps pools apart: the local pool and a relay pool each ' + "hand out their own addresses, and NAK the other's",
    async () => {
      const s = fullSetup({ relayPools: [RACK2] });
      const local = await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:aa:02' });
      expect(local.packet.yiaddr).toBe('10.77.0.100');
      expect(optionIp(local.packet, Opt.Router)).toBe('10.77.0.1');
      const relayed = await one(s.handler, {
        type: MessageType.Discover,
        mac: '52:54:00:00:aa:03',
        giaddr: '10.78.2.1',
      });
      expect(relayed.packet.yiaddr).toBe('10.78.2.100');
      expect(optionIp(relayed.packet, Opt.Router)).toBe('10.78.2.1');
      // A machine moved from rack 2 to the local link asks for its old address (init-reboot).
      const moved = await one(s.handler, {
        type: MessageType.Request,
        mac: '52:54:00:00:aa:03',
        requestedIp: '10.78.2.100',
      });
      expect(messageType(moved.packet)).toBe(MessageType.Nak);
      const wrong = await one(s.handler, {
        type: MessageType.Request,
        mac: '52:54:00:00:aa:02',
        giaddr: '10.78.2.1',
        requestedIp: '10.77.0.100',
      });
      expect(messageType(wrong.packet)).toBe(MessageType.Nak);
      expect(wrong.to).toEqual({ address: '10.78.2.1', port: 67 });
    },
  );

  it('applies a reservation in whichever pool holds the reserved address', async () => {
    const s = fullSetup({
      relayPools: [RACK2],
      reservations: { '52:54:00:47:51:e4': '10.78.2.12', '52:54:00:00:00:09': '10.78.2.100' },
    });
    const r = await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:47:51:e4', giaddr: '10.78.2.1' });
    expect(r.packet.yiaddr).toBe('10.78.2.12');
    // The reserved pool address is kept from others.
    const other = await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:00:01', giaddr: '10.78.2.1' });
    expect(other.packet.yiaddr).toBe('10.78.2.101');
    // On the local link, the reservation (for another network) does not apply.
    const here = await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:47:51:e4' });
    expect(here.packet.yiaddr).toBe('10.77.0.100');
  });

  it('drops a relayed request from a network without a pool, logging once per giaddr per minute', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'warn' },
      { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
    );
    const s = fullSetup({ relayPools: [RACK2], logger });
    for (let i = 0; i < 50; i++) {
      expect(
        await ask(s.handler, {
          type: MessageType.Discover,
          mac: `52:54:00:00:bb:${i.toString(16).padStart(2, '0')}`,
          giaddr: '10.99.0.1',
        }),
      ).toEqual([]);
      expect(
        await ask(s.handler, {
          type: MessageType.Request,
          mac: '52:54:00:00:bc:01',
          giaddr: '10.99.1.1',
          requestedIp: '10.99.1.5',
        }),
      ).toEqual([]);
      s.advance(1000);
    }
    expect(lines.map((l) => l.giaddr)).toEqual(['10.99.0.1', '10.99.1.1']);
    expect(String(lines[0]!.msg)).toMatch(/no pool .*dhcp.relayPools/);
    s.advance(11_000);
    await ask(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:bb:01', giaddr: '10.99.0.1' });
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ giaddr: '10.99.0.1', suppressed: 49 });
    expect(s.records).toEqual([]);
  });
});

describe('PerKeyLogLimit', () => {
  it('logs a key once per interval and a flood of new keys at most maxKeys times per interval', () => {
    const l = new PerKeyLogLimit(60_000, 3);
    expect(l.take('a', 0)).toBe(0);
    expect(l.take('a', 59_999)).toBeNull();
    expect(l.take('a', 60_000)).toBe(1);
    expect(['b', 'c', 'd', 'e'].map((k) => l.take(k, 60_001))).toEqual([0, 0, null, null]);
    expect(l.overflow).toBe(2);
    expect(l.take('d', 120_001)).toBe(0);
  });
});

describe('one journal for all pools', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });
  const tableFor = (pool: ReturnType<typeof makePool>) =>
    new LeaseTable({
      pool,
      serverIp: SERVER,
      offerMs: 60_000,
      maxOffers: 64,
      declineMs: 600_000,
      reservationFor: () => null,
      reservationOwner: () => null,
    });

  it(
    'replays a journal written before relay pools existed (the format is ' +
      'unchanged), and routes records by address',
    async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kindling-relay-journal-'));
      dirs.push(dir);
      const file = path.join(dir, 'state', 'dhcp-leases.jsonl');
      await fs.mkdir(path.dirname(file), { recursive: true });
      // Verbatim lines as the single-pool version wrote them (including its torn last line).
      await fs.writeFile(
        file,
        [
          '{"t":"bind","mac":"52:54:00:00:00:01","ip":"10.77.0.100","exp":2000000000000,"host":"node-1"}',
          '{"t":"bind","mac":"52:54:00:00:00:02","ip":"10.77.0.101","exp":2000000000000,"host":null}',
          '{"t":"release","mac":"52:54:00:00:00:02","ip":"10.77.0.101","at":1500000000000}',
          '{"t":"decline","ip":"10.77.0.102","until":2000000000000}',
          '{"t":"bind","mac":"52:54:00:00:00:03","ip":"10.77.0.103","exp":2000000000000}',
          '{"t":"bind","mac":"52:54:00:00:00:04","ip":"10.78.2.150","exp":2000000000000}',
          '{"t":"bind","mac":"52:54:00:00:00:05","ip":"192.168.9.9","exp":2000000000000}',
          '{"t":"bind","mac":"52:5',
        ].join('\n'),
      );
      const pools = [LOCAL, makeRelayPool(RACK2, 0, SERVER)];
      const tables = pools.map(tableFor);
      const { journal, records } = await LeaseJournal.open(file, () => tables.flatMap((t) => t.snapshot()));
      expect(records).toHaveLength(7);
      const split = recordsByPool(records, pools);
      expect(split.map((r) => r.length)).toEqual([6, 1]);
      split.forEach((r, i) => tables[i]!.replay(r));
      const [local, rack2] = tables as [LeaseTable, LeaseTable];
      expect(local.leaseOf('52:54:00:00:00:01')).toMatchObject({ hostName: 'node-1' });
      expect(local.leaseOf('52:54:00:00:00:02')?.expiresAt).toBe(1_500_000_000_000);
      expect(local.leaseOf('52:54:00:00:00:05')).toBeDefined(); // no pool has it: kept, as before
      expect(rack2.leaseOf('52:54:00:00:00:04')).toMatchObject({ expiresAt: 2_000_000_000_000 });
      expect(local.leaseOf('52:54:00:00:00:04')).toBeUndefined();
      const now = 1_600_000_000_000;
      // The replayed state is in force: each MAC keeps its address, the declined one stays out.
      expect(local.offer('52:54:00:00:00:01', null, now)).toBe(LOCAL.start);
      // .100 and .103 are held, .102 declined, .101 released but kept for its owner while never-used ones last.
      expect(local.offer('52:54:00:00:00:09', null, now)).toBe(LOCAL.start + 4);
      expect(local.check('52:54:00:00:00:0a', '10.77.0.102', now)).toMatchObject({ ok: false });
      expect(local.check('52:54:00:00:00:0a', '10.77.0.103', now)).toMatchObject({ ok: false });
      expect(local.check('52:54:00:00:00:0a', '10.77.0.101', now)).toMatchObject({ ok: true });
      expect(rack2.check('52:54:00:00:00:0b', '10.78.2.150', now)).toMatchObject({ ok: false });

      // New records of both pools go to the same journal and come back to the right table.
      const recs: JournalRecord[] = [
        rack2.bind('52:54:00:00:00:06', 0x0a4e0265, now, 60_000, null),
        local.bind('52:54:00:00:00:07', LOCAL.start + 5, now, 60_000, null),
      ];
      for (const r of recs) await journal.append(r);
      await journal.close();
      const again = await LeaseJournal.open(file, () => []);
      const split2 = recordsByPool(again.records, pools);
      expect(split2[1]!.map((r) => r.ip)).toEqual(['10.78.2.150', '10.78.2.101']);
      expect(split2[0]!.at(-1)).toMatchObject({ mac: '52:54:00:00:00:07', ip: '10.77.0.105' });
      await again.journal.close();
    },
  );
});
