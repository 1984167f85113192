// Golden tests against packets captured from real clients and a real server
// (fixtures/capture.sh regenerates them: dhclient, udhcpc and dnsmasq in namespaces).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientArch, MessageType, messageType, Opt, optionIp, optionString, parameterRequestList, userClasses } from '../../src/dhcp/options.js';
import { encodePacket, macOf, parsePacket } from '../../src/dhcp/packet.js';
import { from, fullSetup, SERVER } from './support/fakes.js';
import { parsed } from './support/packets.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const load = (name: string) =>
  readFileSync(path.join(dir, name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((h) => Buffer.from(h.trim(), 'hex'));

describe('captured packets', () => {
  it('dhclient: DISCOVER then REQUEST with its parameter list', () => {
    const [discover, request] = load('dhclient-plain.hex').map(parsed);
    expect(messageType(discover!)).toBe(MessageType.Discover);
    expect(macOf(discover!)).toBe('52:54:00:12:34:56');
    expect(parameterRequestList(discover!)).toEqual(expect.arrayContaining([1, 3, 6, 15, 28]));
    expect(messageType(request!)).toBe(MessageType.Request);
    expect(optionIp(request!, Opt.RequestedIp)).toMatch(/^10\.201\.0\.1\d\d$/);
    expect(optionIp(request!, Opt.ServerId)).toBe('10.201.0.1');
  });

  it('dhclient as a PXE UEFI client that is iPXE: option 60, 93 = 7 and user class iPXE', () => {
    const [discover] = load('dhclient-pxe-ipxe.hex').map(parsed);
    expect(optionString(discover!, Opt.VendorClass)).toBe('PXEClient:Arch:00007:UNDI:003016');
    expect(clientArch(discover!)).toBe(7);
    expect(userClasses(discover!)).toContain('iPXE');
  });

  it('udhcpc as a BIOS PXE client: option 60 and 93 = 0, host name', () => {
    const [discover] = load('udhcpc-pxe-bios.hex').map(parsed);
    expect(messageType(discover!)).toBe(MessageType.Discover);
    expect(clientArch(discover!)).toBe(0);
    expect(optionString(discover!, Opt.VendorClass)).toBe('PXEClient:Arch:00000:UNDI:002001');
    expect(optionString(discover!, Opt.HostName)).toBe('node-a');
  });

  it('dnsmasq: OFFER and ACK with yiaddr, siaddr, file and network options', () => {
    for (const [name, type] of [['dnsmasq-offer.hex', MessageType.Offer], ['dnsmasq-ack.hex', MessageType.Ack]] as const) {
      const [p] = load(name).map(parsed);
      expect(messageType(p!)).toBe(type);
      expect(p!.yiaddr).toMatch(/^10\.201\.0\.1\d\d$/);
      expect(p!.siaddr).toBe('10.201.0.1');
      expect(p!.file).toBe('undionly.kpxe');
      expect(optionIp(p!, Opt.Router)).toBe('10.201.0.1');
      expect(optionIp(p!, Opt.SubnetMask)).toBe('255.255.255.0');
    }
  });

  it('every capture re-encodes to a packet that parses to the same thing', () => {
    for (const name of ['dhclient-plain.hex', 'dhclient-pxe-ipxe.hex', 'udhcpc-pxe-bios.hex', 'dnsmasq-offer.hex', 'dnsmasq-ack.hex']) {
      for (const bytes of load(name)) {
        const p = parsed(bytes);
        const again = parsePacket(encodePacket(p, 1500).bytes);
        expect(again).toEqual({ ok: true, packet: p });
      }
    }
  });

  it('Kindling answers the captured clients as their kind requires', async () => {
    const s = fullSetup({ range: { start: '10.77.0.100', end: '10.77.0.110' } });
    const reply = async (bytes: Buffer) => parsed((await s.handler.handle({ data: bytes, from, localPort: 67 }))[0]!.data);
    const plain = await reply(load('dhclient-plain.hex')[0]!);
    expect(plain.file).toBe('');
    const ipxe = await reply(load('dhclient-pxe-ipxe.hex')[0]!);
    expect(ipxe.file).toBe(`http://${SERVER}/boot.ipxe`);
    const bios = await reply(load('udhcpc-pxe-bios.hex')[0]!);
    expect(bios.file).toBe('undionly.kpxe');
    expect(bios.siaddr).toBe(SERVER);
  });
});
