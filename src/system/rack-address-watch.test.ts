import type os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config/index.js';
import { watchRackAddress } from './rack-address-watch.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;
const eth0 = (address: string | null): Interfaces =>
  address === null
    ? {}
    : {
        eth0: [
          {
            address,
            family: 'IPv4',
            internal: false,
            netmask: '255.255.255.0',
            mac: '02:00:00:00:00:01',
            cidr: `${address}/24`,
          },
        ],
      };

describe('watchRackAddress', () => {
  afterEach(() => vi.useRealTimers());

  it('follows a renewed lease on the interface, once per change, and ignores a dropped address', () => {
    vi.useFakeTimers();
    const config = parseConfig(
      { server: { advertise: 'auto', interface: 'eth0' }, dhcp: { mode: 'proxy', interface: 'eth0' } },
      't.yaml',
      '/tmp',
    );
    let now: Interfaces = eth0('192.168.1.20');
    const changes: string[] = [];
    const stop = watchRackAddress({
      config,
      current: '192.168.1.20',
      intervalMs: 1000,
      interfaces: () => now,
      onChange: (next, prev) => changes.push(`${prev}->${next}`),
    });
    vi.advanceTimersByTime(3000);
    expect(changes).toEqual([]);
    now = eth0(null); // between leases
    vi.advanceTimersByTime(3000);
    expect(changes).toEqual([]);
    now = eth0('192.168.1.57');
    vi.advanceTimersByTime(3000);
    expect(changes).toEqual(['192.168.1.20->192.168.1.57']);
    stop();
    now = eth0('192.168.1.99');
    vi.advanceTimersByTime(3000);
    expect(changes).toHaveLength(1);
  });

  it('never moves a pinned server.advertise', () => {
    vi.useFakeTimers();
    const config = parseConfig(
      { server: { advertise: '10.0.0.5', interface: 'eth0' }, dhcp: { mode: 'proxy' } },
      't.yaml',
      '/tmp',
    );
    const changes: string[] = [];
    watchRackAddress({
      config,
      current: '10.0.0.5',
      intervalMs: 1000,
      interfaces: () => eth0('10.0.0.9'),
      onChange: (next) => changes.push(next),
    });
    vi.advanceTimersByTime(5000);
    expect(changes).toEqual([]);
  });
});
