import { describe, expect, it } from 'vitest';
import { MessageType, messageType, Opt, optionIp, optionString } from '../../src/dhcp/options.js';
import type { DhcpHandler, Outgoing } from '../../src/dhcp/reply.js';
import { from, fullSetup, SERVER } from './support/fakes.js';
import { clientPacket, parsed, pxeUefi, type ClientPacketOptions } from './support/packets.js';

async function ask(handler: DhcpHandler, o: ClientPacketOptions, localPort = 67): Promise<Outgoing[]> {
  return handler.handle({ data: clientPacket(o), from, localPort });
}

async function one(handler: DhcpHandler, o: ClientPacketOptions) {
  const out = await ask(handler, o);
  expect(out).toHaveLength(1);
  return { packet: parsed(out[0]!.data), to: out[0]!.to };
}

async function dora(handler: DhcpHandler, mac: string, extra: Partial<ClientPacketOptions> = {}) {
  const offer = await one(handler, { type: MessageType.Discover, mac, ...extra });
  const ack = await one(handler, {
    type: MessageType.Request,
    mac,
    requestedIp: offer.packet.yiaddr,
    serverId: SERVER,
    ...extra,
  });
  return { offer, ack };
}

describe('full mode (RFC 2131 §4.3)', () => {
  it('offers and acknowledges an address with mask, router, DNS, domain and lease times', async () => {
    const s = fullSetup();
    const { offer, ack } = await dora(s.handler, '52:54:00:00:00:01');
    expect(messageType(offer.packet)).toBe(MessageType.Offer);
    expect(offer.packet.yiaddr).toBe('10.77.0.100');
    expect(messageType(ack.packet)).toBe(MessageType.Ack);
    expect(ack.packet.yiaddr).toBe('10.77.0.100');
    expect(optionIp(ack.packet, Opt.SubnetMask)).toBe('255.255.255.0');
    expect(optionIp(ack.packet, Opt.Router)).toBe('10.77.0.1');
    expect(Array.from(ack.packet.options.get(Opt.Dns)!)).toEqual([10, 77, 0, 1, 9, 9, 9, 9]);
    expect(optionString(ack.packet, Opt.DomainName)).toBe('rack.local');
    expect(optionIp(ack.packet, Opt.ServerId)).toBe(SERVER);
    expect(Buffer.from(ack.packet.options.get(Opt.LeaseTime)!).readUInt32BE(0)).toBe(3600);
    expect(ack.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(s.records).toEqual([expect.objectContaining({ t: 'bind', mac: '52:54:00:00:00:01', ip: '10.77.0.100' })]);
    expect(ack.packet.file).toBe('');
    expect(s.inventory.events).toEqual([]);
  });

  it('gives the same MAC the same address again, even after its lease expired', async () => {
    const s = fullSetup();
    await dora(s.handler, '52:54:00:00:00:01');
    await dora(s.handler, '52:54:00:00:00:02');
    s.advance(7200_000);
    const again = await dora(s.handler, '52:54:00:00:00:01');
    expect(again.ack.packet.yiaddr).toBe('10.77.0.100');
  });

  it('gives a reserved MAC its reservation and keeps it from others', async () => {
    const s = fullSetup({ reservations: { '52:54:00:47:51:e4': '10.77.0.12', '52:54:00:00:00:09': '10.77.0.100' } });
    const r = await dora(s.handler, '52:54:00:47:51:e4');
    expect(r.ack.packet.yiaddr).toBe('10.77.0.12');
    const other = await dora(s.handler, '52:54:00:00:00:01');
    expect(other.ack.packet.yiaddr).toBe('10.77.0.101');
    const nak = await one(s.handler, {
      type: MessageType.Request,
      mac: '52:54:00:00:00:01',
      requestedIp: '10.77.0.100',
    });
    expect(messageType(nak.packet)).toBe(MessageType.Nak);
  });

  it('gives a PXE UEFI client ipxe.efi with next-server, and iPXE the boot.ipxe URL, recording events', async () => {
    const s = fullSetup();
    const { offer, ack } = await dora(s.handler, '52:54:00:00:00:07', { ...pxeUefi, uuid: true });
    expect(offer.packet.file).toBe('ipxe.efi');
    expect(offer.packet.siaddr).toBe(SERVER);
    expect(optionString(offer.packet, Opt.BootFile)).toBe('ipxe.efi');
    expect(optionString(offer.packet, Opt.VendorClass)).toBe('PXEClient');
    expect(offer.packet.options.get(Opt.MachineUuid)).toHaveLength(17);
    expect(ack.packet.file).toBe('ipxe.efi');
    const ipxe = await dora(s.handler, '52:54:00:00:00:07', { ...pxeUefi, userClass: 'iPXE' });
    expect(ipxe.ack.packet.file).toBe(`http://${SERVER}/boot.ipxe`);
    expect(ipxe.ack.packet.yiaddr).toBe(ack.packet.yiaddr);
    expect(s.inventory.events).toEqual([
      {
        mac: '52:54:00:00:00:07',
        arch: 7,
        vendorClass: pxeUefi.vendorClass,
        userClass: null,
        ip: '10.77.0.100',
        bootFile: 'ipxe.efi',
        mode: 'full',
      },
      {
        mac: '52:54:00:00:00:07',
        arch: 7,
        vendorClass: pxeUefi.vendorClass,
        userClass: 'iPXE',
        ip: '10.77.0.100',
        bootFile: `http://${SERVER}/boot.ipxe`,
        mode: 'full',
      },
    ]);
  });

  it('echoes HTTPClient to a UEFI HTTP boot client', async () => {
    const s = fullSetup();
    const { offer } = await dora(s.handler, '52:54:00:00:00:16', {
      vendorClass: 'HTTPClient:Arch:00016:UNDI:003001',
      arch: 16,
    });
    expect(optionString(offer.packet, Opt.VendorClass)).toBe('HTTPClient');
    expect(offer.packet.file).toBe(`http://${SERVER}/ipxe.efi`);
  });

  it('NAKs a request for an address on another network or held by another client', async () => {
    const s = fullSetup();
    await dora(s.handler, '52:54:00:00:00:01');
    const wrongNet = await one(s.handler, {
      type: MessageType.Request,
      mac: '52:54:00:00:00:02',
      requestedIp: '192.168.1.5',
    });
    expect(messageType(wrongNet.packet)).toBe(MessageType.Nak);
    expect(wrongNet.packet.yiaddr).toBe('0.0.0.0');
    const taken = await one(s.handler, {
      type: MessageType.Request,
      mac: '52:54:00:00:00:02',
      requestedIp: '10.77.0.100',
    });
    expect(messageType(taken.packet)).toBe(MessageType.Nak);
  });

  it('stays silent when the client chose another server, and frees the offer', async () => {
    const s = fullSetup();
    await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:00:01' });
    expect(s.table.pendingOffers).toBe(1);
    expect(
      await ask(s.handler, {
        type: MessageType.Request,
        mac: '52:54:00:00:00:01',
        requestedIp: '10.77.0.100',
        serverId: '10.77.0.3',
      }),
    ).toEqual([]);
    expect(s.table.pendingOffers).toBe(0);
  });

  it('renews by unicast to ciaddr', async () => {
    const s = fullSetup();
    await dora(s.handler, '52:54:00:00:00:01');
    const renew = await one(s.handler, { type: MessageType.Request, mac: '52:54:00:00:00:01', ciaddr: '10.77.0.100' });
    expect(messageType(renew.packet)).toBe(MessageType.Ack);
    expect(renew.packet.ciaddr).toBe('10.77.0.100');
    expect(renew.to).toEqual({ address: '10.77.0.100', port: 68 });
  });

  it('handles RELEASE: the address is free again but the client keeps first claim', async () => {
    const s = fullSetup({ range: { start: '10.77.0.100', end: '10.77.0.101' } });
    await dora(s.handler, '52:54:00:00:00:01');
    expect(
      await ask(s.handler, {
        type: MessageType.Release,
        mac: '52:54:00:00:00:01',
        ciaddr: '10.77.0.100',
        serverId: SERVER,
      }),
    ).toEqual([]);
    expect(s.records.at(-1)).toMatchObject({ t: 'release', ip: '10.77.0.100' });
    const b = await dora(s.handler, '52:54:00:00:00:02');
    expect(b.ack.packet.yiaddr).toBe('10.77.0.101');
    const c = await dora(s.handler, '52:54:00:00:00:03');
    expect(c.ack.packet.yiaddr).toBe('10.77.0.100');
  });

  it('handles DECLINE: the address stays out of the pool', async () => {
    const s = fullSetup();
    await dora(s.handler, '52:54:00:00:00:01');
    await ask(s.handler, {
      type: MessageType.Decline,
      mac: '52:54:00:00:00:01',
      requestedIp: '10.77.0.100',
      serverId: SERVER,
    });
    expect(s.records.at(-1)).toMatchObject({ t: 'decline', ip: '10.77.0.100' });
    const again = await dora(s.handler, '52:54:00:00:00:01');
    expect(again.ack.packet.yiaddr).toBe('10.77.0.101');
  });

  it('answers INFORM with configuration only (RFC 2131 §4.3.5)', async () => {
    const s = fullSetup();
    const r = await one(s.handler, { type: MessageType.Inform, mac: '52:54:00:00:00:01', ciaddr: '10.77.0.50' });
    expect(messageType(r.packet)).toBe(MessageType.Ack);
    expect(r.packet.yiaddr).toBe('0.0.0.0');
    expect(r.packet.options.has(Opt.LeaseTime)).toBe(false);
    expect(optionIp(r.packet, Opt.Router)).toBe('10.77.0.1');
    expect(r.to).toEqual({ address: '10.77.0.50', port: 68 });
    expect(s.records).toEqual([]);
  });

  it('replies to a relay at giaddr:67 and ignores relays from networks it has no pool for', async () => {
    const s = fullSetup();
    const relayed = await one(s.handler, {
      type: MessageType.Discover,
      mac: '52:54:00:00:00:01',
      giaddr: '10.77.0.1',
      extra: [[82, Uint8Array.of(1, 2, 0, 5)]],
    });
    expect(relayed.to).toEqual({ address: '10.77.0.1', port: 67 });
    expect(relayed.packet.giaddr).toBe('10.77.0.1');
    expect(Array.from(relayed.packet.options.get(82)!)).toEqual([1, 2, 0, 5]);
    expect(await ask(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:00:01', giaddr: '10.99.0.1' })).toEqual(
      [],
    );
  });

  it('does not ACK when the lease cannot be written', async () => {
    const s = fullSetup({ failJournal: true });
    await one(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:00:01' });
    expect(
      await ask(s.handler, {
        type: MessageType.Request,
        mac: '52:54:00:00:00:01',
        requestedIp: '10.77.0.100',
        serverId: SERVER,
      }),
    ).toEqual([]);
  });

  it('stops offering when the pool is exhausted, and caps pending offers', async () => {
    const s = fullSetup({ range: { start: '10.77.0.100', end: '10.77.0.103' }, maxOffers: 3 });
    for (let i = 0; i < 4; i++) await dora(s.handler, `52:54:00:00:01:0${i}`);
    expect(await ask(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:02:00' })).toEqual([]);
    const big = fullSetup({ range: { start: '10.77.0.10', end: '10.77.0.250' }, maxOffers: 3 });
    for (let i = 0; i < 50; i++)
      await ask(big.handler, { type: MessageType.Discover, mac: `52:54:00:00:03:${i.toString(16).padStart(2, '0')}` });
    expect(big.table.pendingOffers).toBe(3);
  });

  it('ignores port 4011, replies, BOOTP without type and malformed packets', async () => {
    const s = fullSetup();
    expect(await ask(s.handler, { type: MessageType.Discover, mac: '52:54:00:00:00:01' }, 4011)).toEqual([]);
    expect(await s.handler.handle({ data: Buffer.alloc(10), from, localPort: 67 })).toEqual([]);
    const reply = Buffer.from(clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:01' }));
    reply[0] = 2;
    expect(await s.handler.handle({ data: reply, from, localPort: 67 })).toEqual([]);
  });
});
