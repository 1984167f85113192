// A minimal PXE ROM for tests, run inside the client namespace: broadcast a DISCOVER
// with the PXE options, collect every OFFER for a while, then (if asked) send the
// boot-server REQUEST to the proxy on port 4011 and print everything as one JSON line.
import dgram from 'node:dgram';
import { encode, MessageType, messageType, Opt, optionIp, optionString } from '../../../src/dhcp/options.js';
import { BOOTREQUEST, BROADCAST_FLAG, encodePacket, macToChaddr, parsePacket } from '../../../src/dhcp/packet.js';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  mac: string;
  clientIp: string;
  arch: number;
  userClass?: string;
  listenMs: number;
  bootServer?: string;
};
const xid = Math.floor(Math.random() * 2 ** 32);
const packet = (type: number, ciaddr = '0.0.0.0') => {
  const options = new Map<number, Uint8Array>([
    [Opt.MessageType, encode.u8(type)],
    [Opt.ParamRequest, Uint8Array.of(1, 3, 43, 60, 66, 67, 97)],
    [Opt.VendorClass, encode.str(`PXEClient:Arch:${String(o.arch).padStart(5, '0')}:UNDI:003016`)],
    [Opt.ClientArch, encode.u16(o.arch)],
    [Opt.ClientNdi, Uint8Array.of(1, 3, 16)],
    [Opt.MachineUuid, Uint8Array.from([0, ...Array.from({ length: 16 }, (_, i) => i + 1)])],
  ]);
  if (o.userClass) options.set(Opt.UserClass, encode.str(o.userClass));
  return encodePacket({
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: BROADCAST_FLAG,
    ciaddr,
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: macToChaddr(o.mac),
    sname: '',
    file: '',
    options,
  }).bytes;
};
const replies: Array<{
  port: number;
  from: string;
  type: number | null;
  yiaddr: string;
  siaddr: string;
  file: string;
  serverId: string | null;
  vendorClass: string | null;
  option43: number[] | null;
}> = [];
const record = (port: number) => (data: Buffer, rinfo: dgram.RemoteInfo) => {
  const r = parsePacket(data);
  if (!r.ok || r.packet.xid !== xid) return;
  const p = r.packet;
  const v43 = p.options.get(Opt.VendorSpecific);
  replies.push({
    port,
    from: rinfo.address,
    type: messageType(p),
    yiaddr: p.yiaddr,
    siaddr: p.siaddr,
    file: p.file,
    serverId: optionIp(p, Opt.ServerId),
    vendorClass: optionString(p, Opt.VendorClass),
    option43: v43 ? Array.from(v43) : null,
  });
};
const wild = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const bound = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise<void>((r) => wild.bind(68, '0.0.0.0', () => r()));
await new Promise<void>((r) => bound.bind(68, o.clientIp, () => r()));
bound.setBroadcast(true);
wild.on('message', record(68));
bound.on('message', record(68));
bound.send(packet(MessageType.Discover), 67, '255.255.255.255');
await new Promise((r) => setTimeout(r, o.listenMs));
if (o.bootServer) {
  const boot = dgram.createSocket('udp4');
  await new Promise<void>((r) => boot.bind(0, o.clientIp, () => r()));
  boot.on('message', record(4011));
  boot.send(packet(MessageType.Request, o.clientIp), 4011, o.bootServer);
  await new Promise((r) => setTimeout(r, 1000));
  boot.close();
}
process.stdout.write(JSON.stringify(replies) + '\n');
wild.close();
bound.close();
