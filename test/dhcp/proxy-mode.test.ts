import { describe, expect, it } from 'vitest';
import { MessageType, messageType, Opt, optionIp, optionString } from '../../src/dhcp/options.js';
import { PXE_VENDOR_OPTIONS } from '../../src/dhcp/options.js';
import { from, proxySetup, SERVER } from './support/fakes.js';
import { clientPacket, parsed, pxeUefi } from './support/packets.js';

describe('proxy mode (PXE 2.1 §2.2.3)', () => {
  it('answers a PXE DISCOVER with no yiaddr, option 60 PXEClient, option 43 and the boot file', async () => {
    const s = proxySetup();
    const out = await s.handler.handle({
      data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:07', ...pxeUefi, uuid: true }),
      from,
      localPort: 67,
    });
    expect(out).toHaveLength(1);
    const p = parsed(out[0]!.data);
    expect(messageType(p)).toBe(MessageType.Offer);
    expect(p.yiaddr).toBe('0.0.0.0');
    expect(p.siaddr).toBe(SERVER);
    expect(p.file).toBe('ipxe.efi');
    expect(optionString(p, Opt.VendorClass)).toBe('PXEClient');
    expect(p.options.get(Opt.VendorSpecific)).toEqual(PXE_VENDOR_OPTIONS);
    expect(optionIp(p, Opt.ServerId)).toBe(SERVER);
    expect(p.options.has(Opt.LeaseTime)).toBe(false);
    expect(p.options.has(Opt.SubnetMask)).toBe(false);
    expect(out[0]!.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(s.inventory.events).toEqual([
      {
        mac: '52:54:00:00:00:07',
        arch: 7,
        vendorClass: pxeUefi.vendorClass,
        userClass: null,
        ip: null,
        bootFile: 'ipxe.efi',
        mode: 'proxy',
      },
    ]);
  });

  it('answers the boot-server REQUEST on 4011 with an ACK back to the sender', async () => {
    const s = proxySetup();
    const out = await s.handler.handle({
      data: clientPacket({ type: MessageType.Request, mac: '52:54:00:00:00:07', ciaddr: '10.0.0.9', ...pxeUefi }),
      from: { address: '10.0.0.9', port: 4011 },
      localPort: 4011,
    });
    const p = parsed(out[0]!.data);
    expect(messageType(p)).toBe(MessageType.Ack);
    expect(p.file).toBe('ipxe.efi');
    expect(out[0]!.to).toEqual({ address: '10.0.0.9', port: 4011 });
  });

  it('gives iPXE the boot.ipxe URL', async () => {
    const s = proxySetup();
    const out = await s.handler.handle({
      data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:07', ...pxeUefi, userClass: 'iPXE' }),
      from,
      localPort: 67,
    });
    expect(parsed(out[0]!.data).file).toBe(`http://${SERVER}/boot.ipxe`);
  });

  it('never answers a client that is not booting from the network, nor a REQUEST on 67', async () => {
    const s = proxySetup();
    expect(
      await s.handler.handle({
        data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:01' }),
        from,
        localPort: 67,
      }),
    ).toEqual([]);
    expect(
      await s.handler.handle({
        data: clientPacket({ type: MessageType.Discover, mac: '52:54:00:00:00:01', vendorClass: 'MSFT 5.0' }),
        from,
        localPort: 67,
      }),
    ).toEqual([]);
    expect(
      await s.handler.handle({
        data: clientPacket({ type: MessageType.Request, mac: '52:54:00:00:00:07', ...pxeUefi }),
        from,
        localPort: 67,
      }),
    ).toEqual([]);
    expect(s.inventory.events).toEqual([]);
  });
});
