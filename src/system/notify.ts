import { createRequire } from 'node:module';

// The sd_notify protocol (https://www.freedesktop.org/software/systemd/man/sd_notify.html):
// one datagram of newline-separated KEY=VALUE lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET. Node's dgram has no AF_UNIX datagrams, so we use `unix-dgram` (a
// small native addon) and send from our own PID, which systemd's default
// NotifyAccess=main requires. docs/decisions.md says why not the systemd-notify binary.

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

export interface Notifier {
  /** Whether a service manager is listening at all. */
  readonly enabled: boolean;
  notify(fields: Record<string, string | number>): Promise<void>;
  close(): void;
}

const silent: Notifier = { enabled: false, notify: async () => undefined, close: () => undefined };

export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  onError: (err: Error) => void = () => undefined,
): Notifier {
  const socketPath = env['NOTIFY_SOCKET'];
  if (!socketPath) return silent;
  if (socketPath.startsWith('@')) {
    onError(
      new Error(
        `NOTIFY_SOCKET ${socketPath} is an abstract socket, which unix-dgram ` +
          `cannot address; readiness will not be reported`,
      ),
    );
    return silent;
  }
  const require = createRequire(import.meta.url);
  const unix = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  const socket = unix.createSocket('unix_dgram');
  socket.on('error', onError);
  return {
    enabled: true,
    notify: (fields) =>
      new Promise((resolve) => {
        const message = Buffer.from(
          Object.entries(fields)
            .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
            .join('\n'),
        );
        socket.send(message, 0, message.length, socketPath, (err) => {
          if (err) onError(err);
          resolve();
        });
      }),
    close: () => socket.close(),
  };
}

/**
 * WATCHDOG=1 at half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises. The ping
 * runs on the event loop, so a hung loop stops the pings and systemd restarts us.
 */
export function startWatchdog(notifier: Notifier, env: NodeJS.ProcessEnv = process.env): (() => void) | null {
  const usec = Number(env['WATCHDOG_USEC']);
  const pid = env['WATCHDOG_PID'];
  if (!notifier.enabled || !Number.isFinite(usec) || usec <= 0) return null;
  if (pid && Number(pid) !== process.pid) return null;
  const timer = setInterval(() => void notifier.notify({ WATCHDOG: 1 }), Math.max(1, Math.floor(usec / 2000)));
  timer.unref();
  return () => clearInterval(timer);
}
