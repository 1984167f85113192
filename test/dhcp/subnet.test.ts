import { describe, expect, it } from 'vitest';
import { isKindlingError } from '../../src/errors.js';
import { makePool } from '../../src/net/ipv4.js';

describe('dhcp.range check at start', () => {
  it('accepts a range inside the subnet that leaves the server out', () => {
    expect(
      makePool({
        range: { start: '10.77.0.100', end: '10.77.0.250' },
        subnetMask: '255.255.255.0',
        serverIp: '10.77.0.2',
      }).size,
    ).toBe(151);
  });

  it.each([
    [
      'empty',
      { start: '10.77.0.200', end: '10.77.0.100' },
      '255.255.255.0',
      '10.77.0.2',
      /dhcp.range is empty: start 10.77.0.200 is after end 10.77.0.100/,
    ],
    [
      'outside the subnet',
      { start: '10.78.0.100', end: '10.78.0.200' },
      '255.255.255.0',
      '10.77.0.2',
      /dhcp.range.start 10.78.0.100 is outside the server's subnet 10.77.0.0\/24/,
    ],
    [
      'containing the server',
      { start: '10.77.0.1', end: '10.77.0.20' },
      '255.255.255.0',
      '10.77.0.2',
      /contains the server's own address 10.77.0.2/,
    ],
    [
      'including the broadcast address',
      { start: '10.77.0.100', end: '10.77.0.255' },
      '255.255.255.0',
      '10.77.0.2',
      /network or broadcast/,
    ],
    [
      'with a broken mask',
      { start: '10.77.0.100', end: '10.77.0.200' },
      '255.0.255.0',
      '10.77.0.2',
      /dhcp.subnetMask 255.0.255.0 is not a netmask/,
    ],
  ])('refuses a range %s', (_name, range, subnetMask, serverIp, message) => {
    try {
      makePool({ range, subnetMask, serverIp });
      expect.unreachable();
    } catch (err) {
      expect(isKindlingError(err, 'DHCP_RANGE_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});
