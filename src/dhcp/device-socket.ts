// A UDP socket on 0.0.0.0:PORT bound to one network device (SO_BINDTODEVICE), so the
// kernel itself drops datagrams, broadcasts included, that arrive on any other link.
//
// Node's dgram has no setsockopt, and Kindling ships no native code. So perl (perl-base
// is Essential in Debian and Raspberry Pi OS) creates and binds the socket, then execs a
// short node child that inherits it, wraps it in a dgram handle and sends that over the
// IPC channel (SCM_RIGHTS) to this process, and exits. Nothing but the socket crosses:
// packets are read by this process as from any dgram socket. Since Linux 5.7 setting
// SO_BINDTODEVICE on a fresh socket needs no capability; port 67 needs
// CAP_NET_BIND_SERVICE, which the ambient set carries over both execs.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { KindlingError } from '../errors.js';

/** SOL_SOCKET option number on Linux (asm-generic/socket.h; the same on x86 and ARM). */
const SO_BINDTODEVICE = 25;
const HELPER_TIMEOUT_MS = 15_000;

// $^F above the socket's descriptor keeps it open across exec (perlvar, $SYSTEM_FD_MAX).
const PERL = String.raw`
use strict; use Socket;
my ($dev, $port, $node, $js) = @ARGV;
$^F = 1023;
socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!\n";
setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or die "SO_REUSEADDR: $!\n";
setsockopt($s, SOL_SOCKET, ${SO_BINDTODEVICE}, pack('Z*', $dev)) or die "SO_BINDTODEVICE $dev: $!\n";
bind($s, sockaddr_in($port, INADDR_ANY)) or die "bind 0.0.0.0:$port: $!\n";
$ENV{KINDLING_SOCKET_FD} = fileno($s);
exec { $node } $node, '-e', $js or die "exec $node: $!\n";
`;

const NODE_CHILD = `const s = require('node:dgram').createSocket('udp4');
s.bind({ fd: Number(process.env.KINDLING_SOCKET_FD) }, () => process.send('socket', s, () => process.exit(0)));`;

export function openDeviceSocket(port: number, device: string): Promise<dgram.Socket> {
  const fail = (why: string) =>
    new KindlingError('DHCP_SOCKET', `cannot bind UDP port ${port} to dhcp.interface ${device}: ${why}`, {
      port,
      interface: device,
    });
  return new Promise((resolve, reject) => {
    // A bare environment: the child needs none of ours (NODE_OPTIONS could load a debugger or a loader).
    const child = spawn('perl', ['-e', PERL, device, String(port), process.execPath, NODE_CHILD], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    });
    let stderr = '';
    let settled = false;
    const finish = (err: Error | null, socket?: dgram.Socket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        if (child.exitCode === null) child.kill('SIGKILL');
        socket?.close();
        reject(err);
      } else resolve(socket!);
    };
    const timer = setTimeout(
      () => finish(fail(`the socket helper did not answer in ${HELPER_TIMEOUT_MS / 1000} s`)),
      HELPER_TIMEOUT_MS,
    );
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const noPerl = 'perl is not installed (Debian package perl-base); it sets SO_BINDTODEVICE, which Node cannot';
    child.on('error', (err: NodeJS.ErrnoException) => finish(fail(err.code === 'ENOENT' ? noPerl : err.message)));
    child.on('message', (_m: unknown, handle: unknown) => {
      if (handle instanceof dgram.Socket) finish(null, handle);
    });
    // 'close', not 'exit': it comes after the IPC channel is drained, so a socket sent just
    // before the child exited has arrived by then.
    child.on('close', (code, signal) =>
      finish(fail(stderr.trim() || `the socket helper exited with ${code ?? signal}`)),
    );
  });
}
