// Client-side packets for handler tests, built with the codec itself.
import { encode, MessageType, Opt } from '../../../src/dhcp/options.js';
import {
  BOOTREQUEST,
  BROADCAST_FLAG,
  encodePacket,
  macToChaddr,
  parsePacket,
  type DhcpPacket,
} from '../../../src/dhcp/packet.js';

export interface ClientPacketOptions {
  type: number;
  mac: string;
  xid?: number;
  ciaddr?: string;
  giaddr?: string;
  broadcast?: boolean;
  requestedIp?: string;
  serverId?: string;
  vendorClass?: string;
  userClass?: string;
  arch?: number;
  ipxe175?: boolean;
  uuid?: boolean;
  hostName?: string;
  extra?: Array<[number, Uint8Array]>;
}

export function clientPacket(o: ClientPacketOptions): Uint8Array {
  const options = new Map<number, Uint8Array>([[Opt.MessageType, encode.u8(o.type)]]);
  if (o.requestedIp) options.set(Opt.RequestedIp, encode.ip(o.requestedIp));
  if (o.serverId) options.set(Opt.ServerId, encode.ip(o.serverId));
  if (o.hostName) options.set(Opt.HostName, encode.str(o.hostName));
  options.set(Opt.ParamRequest, Uint8Array.of(1, 3, 6, 15, 28, 43, 60, 66, 67));
  if (o.vendorClass) options.set(Opt.VendorClass, encode.str(o.vendorClass));
  if (o.userClass) options.set(Opt.UserClass, encode.str(o.userClass));
  if (o.arch !== undefined) options.set(Opt.ClientArch, encode.u16(o.arch));
  if (o.uuid) options.set(Opt.MachineUuid, Uint8Array.from([0, ...Array.from({ length: 16 }, (_, i) => i)]));
  if (o.ipxe175) options.set(Opt.Ipxe, Uint8Array.of(0xb1, 1, 1));
  for (const [c, v] of o.extra ?? []) options.set(c, v);
  return encodePacket({
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: o.xid ?? 0x1234,
    secs: 0,
    flags: o.broadcast ? BROADCAST_FLAG : 0,
    ciaddr: o.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: o.giaddr ?? '0.0.0.0',
    chaddr: macToChaddr(o.mac),
    sname: '',
    file: '',
    options,
  }).bytes;
}

export function parsed(bytes: Uint8Array): DhcpPacket {
  const r = parsePacket(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.packet;
}

export const pxeUefi = { vendorClass: 'PXEClient:Arch:00007:UNDI:003016', arch: 7 };
export { MessageType };
