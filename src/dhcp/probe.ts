// Safety before full mode (docs/dhcp.md, "Full mode"): ask the link whether a DHCP server
// already answers, as a client would: DISCOVER with the broadcast flag from port 68.
// An OFFER that carries an address means handing out our own would fight it.
import { randomBytes } from 'node:crypto';
import { encode, MessageType, messageType, Opt, optionIp } from './options.js';
import { BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, encodePacket, parsePacket } from './packet.js';
import { CLIENT_PORT, SERVER_PORT } from './reply.js';
import { openPort } from './sockets.js';

export interface ProbeAnswer {
  /** Server identifier (option 54) of the server that answered, else its source address. */
  server: string;
  offered: string;
}

/**
 * How long the probe listens by default. dnsmasq pings an address for up to 3 s
 * before offering it (unless --no-ping), so a shorter probe would miss exactly the
 * server most racks run; DISCOVERs go out at 0, 1 and 3 s as a client's backoff would.
 */
export const DEFAULT_PROBE_MS = 6000;
const RESEND_AT_MS = [1000, 3000];

export function probeDiscover(mac: Uint8Array, xid: number): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac.subarray(0, 6));
  return encodePacket({
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: BROADCAST_FLAG,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr,
    sname: '',
    file: '',
    options: new Map([
      [Opt.MessageType, encode.u8(MessageType.Discover)],
      [Opt.ParamRequest, Uint8Array.of(Opt.SubnetMask, Opt.Router, Opt.ServerId)],
    ]),
  }).bytes;
}

export async function probeForDhcpServer(options: {
  serverIp: string;
  device: string | null;
  mac: Uint8Array;
  timeoutMs: number;
}): Promise<ProbeAnswer | null> {
  const xid = randomBytes(4).readUInt32BE(0);
  let answer: ProbeAnswer | null = null;
  let settle: () => void = () => undefined;
  const done = new Promise<void>((r) => (settle = r));
  const port = await openPort({
    port: CLIENT_PORT,
    serverIp: options.serverIp,
    // Only an answer on the rack link means another server there; the office's does not.
    device: options.device,
    onMessage: (data, from) => {
      const parsed = parsePacket(data);
      if (!parsed.ok) return;
      const p = parsed.packet;
      if (p.op !== BOOTREPLY || p.xid !== xid || messageType(p) !== MessageType.Offer) return;
      const server = optionIp(p, Opt.ServerId) ?? from.address;
      // A ProxyDHCP offer has no address; ours (if a second instance runs) is not "another".
      if (p.yiaddr === '0.0.0.0' || server === options.serverIp) return;
      answer = { server, offered: p.yiaddr };
      settle();
    },
    onError: () => undefined,
  });
  const packet = probeDiscover(options.mac, xid);
  const timers: NodeJS.Timeout[] = [];
  try {
    port.send(packet, '255.255.255.255', SERVER_PORT);
    for (const at of RESEND_AT_MS)
      if (at < options.timeoutMs) timers.push(setTimeout(() => port.send(packet, '255.255.255.255', SERVER_PORT), at));
    timers.push(setTimeout(settle, options.timeoutMs));
    await done;
  } finally {
    timers.forEach(clearTimeout);
    await port.close();
  }
  return answer;
}
