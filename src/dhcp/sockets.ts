// UDP sockets for one DHCP port. Node's dgram cannot pick the outgoing interface per
// packet, so each port gets two sockets: one on 0.0.0.0 that receives broadcasts, bound
// to `dhcp.interface` (SO_BINDTODEVICE, device-socket.ts) so that broadcasts from other
// links never reach Kindling, and one on the server's own address that sends. Linux
// routes a limited broadcast (255.255.255.255) out of the interface that owns a socket's
// bound source address, so replies leave on the right link even without a default route.
import dgram from 'node:dgram';
import { KindlingError } from '../errors.js';
import { openDeviceSocket } from './device-socket.js';

/**
 * A power-on storm arrives in bursts; the default 208 KiB buffer holds about 150
 * DHCP packets, less than 0.1 s at 2,000 packets/s, so a GC pause or a slow disk sync
 * drops packets. The kernel caps this at net.core.rmem_max (212992 on stock Debian;
 * raise it to get the full 4 MiB).
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface PortSockets {
  send(data: Uint8Array, address: string, port: number): void;
  close(): Promise<void>;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export async function openPort(options: {
  port: number;
  serverIp: string;
  /** `dhcp.interface`; null receives broadcasts from every interface. */
  device: string | null;
  onMessage: (data: Buffer, from: { address: string; port: number }) => void;
  onError: (err: Error) => void;
}): Promise<PortSockets> {
  const bound = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: RECEIVE_BUFFER_BYTES });
  let wildcard: dgram.Socket | null = null;
  const closeAll = () =>
    [bound, wildcard].forEach((s) => {
      try {
        s?.close();
      } catch {
        /* never bound */
      }
    });
  try {
    if (options.device) {
      wildcard = await openDeviceSocket(options.port, options.device);
      wildcard.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
    } else {
      wildcard = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: RECEIVE_BUFFER_BYTES });
      await bind(wildcard, options.port, '0.0.0.0');
    }
    await bind(bound, options.port, options.serverIp);
  } catch (err) {
    closeAll();
    if (err instanceof KindlingError) throw err;
    throw new KindlingError(
      'DHCP_SOCKET',
      `cannot bind UDP port ${options.port} on ${options.serverIp}: ${(err as Error).message}; expected the ` +
        `port free (another DHCP server on this host?) and the address on dhcp.interface`,
      { port: options.port },
    );
  }
  bound.setBroadcast(true);
  const sockets = [wildcard, bound];
  for (const s of sockets) {
    s.on('message', (data, rinfo) => options.onMessage(data, { address: rinfo.address, port: rinfo.port }));
    s.on('error', options.onError);
  }
  return {
    send(data, address, port) {
      bound.send(data, port, address, (err) => {
        if (err) options.onError(err);
      });
    },
    close: () => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}
