// UDP sockets for transfers, shared by the main thread and the transfer threads.
import { createSocket, type Socket } from 'node:dgram';

/** Sends name IP literals only; skipping dns.lookup saves a tick and a closure on every send. */
function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}

export const udp4 = (): Socket => createSocket({ type: 'udp4', lookup: literalLookup });

/** Binds to an ephemeral port on `address` (a fresh TID, RFC 1350 section 4); closes the socket on failure. */
export async function bindEphemeral(socket: Socket, address: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    throw err;
  }
}
