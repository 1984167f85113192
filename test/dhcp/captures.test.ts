// Golden tests against packets captured from real clients and a real server
// (fixtures/capture.sh regenerates them: dhclient, udhcpc and dnsmasq in namespaces;
// fixtures/capture-qemu.sh the firmware ones: iPXE under SeaBIOS and OVMF, EDK2 PXE).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  clientArch,
  clientNdi,
  MessageType,
  messageType,
  Opt,
  optionIp,
  optionString,
  parameterRequestList,
  userClasses,
} from '../../src/dhcp/options.js';
import { encodePacket, macOf, parsePacket } from '../../src/dhcp/packet.js';
import { from, fullSetup, proxySetup, SERVER } from './support/fakes.js';
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
    for (const [name, type] of [
      ['dnsmasq-offer.hex', MessageType.Offer],
      ['dnsmasq-ack.hex', MessageType.Ack],
    ] as const) {
      const [p] = load(name).map(parsed);
      expect(messageType(p!)).toBe(type);
      expect(p!.yiaddr).toMatch(/^10\.201\.0\.1\d\d$/);
      expect(p!.siaddr).toBe('10.201.0.1');
      expect(p!.file).toBe('undionly.kpxe');
      expect(optionIp(p!, Opt.Router)).toBe('10.201.0.1');
      expect(optionIp(p!, Opt.SubnetMask)).toBe('255.255.255.0');
    }
  });

  it('QEMU firmware (capture-qemu.sh): iPXE under SeaBIOS and OVMF, and the EDK2 PXE client', () => {
    const [bios] = load('qemu-ipxe-bios.hex').map(parsed);
    expect(clientArch(bios!)).toBe(0);
    expect(userClasses(bios!)).toContain('iPXE');
    expect(bios!.options.has(Opt.Ipxe)).toBe(true);
    expect(clientNdi(bios!)).toEqual({ type: 1, major: 2, minor: 1 });
    const [efi] = load('qemu-ipxe-efi.hex').map(parsed);
    expect(clientArch(efi!)).toBe(7);
    expect(efi!.options.has(Opt.Ipxe)).toBe(true);
    const [edk2] = load('qemu-ovmf-edk2-pxe.hex').map(parsed);
    expect(clientArch(edk2!)).toBe(7);
    expect(optionString(edk2!, Opt.VendorClass)).toBe('PXEClient:Arch:00007:UNDI:003000');
    expect(userClasses(edk2!)).toEqual([]);
    expect(edk2!.options.has(Opt.Ipxe)).toBe(false);
    expect(edk2!.flags & 0x8000).toBe(0x8000);
    expect(macOf(edk2!)).toBe('52:54:00:00:ab:01');
  });

  it('Kindling gives the firmware captures the right file, in full and proxy mode', async () => {
    const s = fullSetup();
    const p = proxySetup();
    for (const [name, file] of [
      ['qemu-ipxe-bios.hex', `http://${SERVER}/boot.ipxe`],
      ['qemu-ipxe-efi.hex', `http://${SERVER}/boot.ipxe`],
      ['qemu-ovmf-edk2-pxe.hex', 'ipxe.efi'],
    ] as const) {
      const bytes = load(name)[0]!;
      const full = parsed((await s.handler.handle({ data: bytes, from, localPort: 67 }))[0]!.data);
      expect(full.file).toBe(file);
      expect(full.yiaddr).not.toBe('0.0.0.0');
      const proxy = parsed((await p.handler.handle({ data: bytes, from, localPort: 67 }))[0]!.data);
      expect(proxy.file).toBe(file);
      expect(proxy.yiaddr).toBe('0.0.0.0');
      expect(Array.from(proxy.options.get(Opt.VendorSpecific)!)).toEqual([6, 1, 8, 255]);
    }
  });

  it('every capture re-encodes to a packet that parses to the same thing', () => {
    for (const name of [
      'dhclient-plain.hex',
      'dhclient-pxe-ipxe.hex',
      'udhcpc-pxe-bios.hex',
      'dnsmasq-offer.hex',
      'dnsmasq-ack.hex',
      'qemu-ipxe-bios.hex',
      'qemu-ipxe-efi.hex',
      'qemu-ovmf-edk2-pxe.hex',
    ]) {
      for (const bytes of load(name)) {
        const p = parsed(bytes);
        const again = parsePacket(encodePacket(p, 1500).bytes);
        expect(again).toEqual({ ok: true, packet: p });
      }
    }
  });

  it('Kindling answers the captured clients as their kind requires', async () => {
    const s = fullSetup({ range: { start: '10.77.0.100', end: '10.77.0.110' } });
    const reply = async (bytes: Buffer) =>
      parsed((await s.handler.handle({ data: bytes, from, localPort: 67 }))[0]!.data);
    const plain = await reply(load('dhclient-plain.hex')[0]!);
    expect(plain.file).toBe('');
    const ipxe = await reply(load('dhclient-pxe-ipxe.hex')[0]!);
    expect(ipxe.file).toBe(`http://${SERVER}/boot.ipxe`);
    const bios = await reply(load('udhcpc-pxe-bios.hex')[0]!);
    expect(bios.file).toBe('undionly.kpxe');
    expect(bios.siaddr).toBe(SERVER);
  });
});
