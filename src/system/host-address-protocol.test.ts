import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng.js';
import { hostAddressProblems, hostAddressRequestSchema, parseHostCidr } from './host-address-protocol.js';
import { ipv4Properties, nmcliPlan } from './nmcli.js';

const staticAt = (address: string | null, gateway: string | null = null, dns: string[] = []) => ({
  method: 'static' as const,
  address,
  gateway,
  dns,
});
const keysOf = (request: Parameters<typeof hostAddressProblems>[0]) => hostAddressProblems(request).map((p) => p.key);

describe('the Pi own address: what a request may ask', () => {
  it.each([
    ['a host in a /24', staticAt('10.77.0.3/24'), []],
    ['a gateway and DNS in the subnet', staticAt('192.168.5.10/24', '192.168.5.1', ['192.168.5.1', '9.9.9.9']), []],
    ['a /30 host', staticAt('10.0.0.1/30'), []],
    ['no address for static', staticAt(null), ['address']],
    ['no prefix', staticAt('10.77.0.3'), ['address']],
    ['a /31', staticAt('10.77.0.3/31'), ['address']],
    ['a /7', staticAt('10.77.0.3/7'), ['address']],
    ['an octet over 255', staticAt('10.77.0.300/24'), ['address']],
    ['the network address', staticAt('10.77.0.0/24'), ['address']],
    ['the broadcast address', staticAt('10.77.0.255/24'), ['address']],
    ['loopback', staticAt('127.0.0.5/8'), ['address']],
    ['link-local', staticAt('169.254.3.4/16'), ['address']],
    ['multicast', staticAt('224.0.0.5/24'), ['address']],
    ['a gateway outside the subnet', staticAt('10.77.0.3/24', '10.78.0.1'), ['gateway']],
    ['the gateway is the address itself', staticAt('10.77.0.3/24', '10.77.0.3'), ['gateway']],
    ['a gateway that is no address', staticAt('10.77.0.3/24', 'router'), ['gateway']],
    ['a DNS server that is no address', staticAt('10.77.0.3/24', null, ['10.0.0.1', 'dns']), ['dns[1]']],
    ['DHCP with nothing else', { method: 'dhcp' as const, address: null, gateway: null, dns: [] }, []],
    ['DHCP with an address', { method: 'dhcp' as const, address: '10.0.0.2/24', gateway: null, dns: [] }, ['address']],
  ])('%s', (_what, request, keys) => {
    expect(keysOf(request)).toEqual(keys);
  });

  it('names the key, the value and what was expected', () => {
    expect(hostAddressProblems(staticAt('10.77.0.3/24', '10.78.0.1'))).toEqual([
      {
        key: 'gateway',
        value: '10.78.0.1',
        expected: 'a host address in 10.77.0.0/24',
        message: 'gateway "10.78.0.1" is outside the subnet; expected a host address in 10.77.0.0/24',
      },
    ]);
  });

  it('parses a prefix into its netmask and network', () => {
    expect(parseHostCidr('172.16.9.20/20')).toMatchObject({ prefix: 20, netmask: '255.255.240.0' });
    expect(parseHostCidr('10.1.2.3/33')).toBeNull();
    expect(parseHostCidr('10.1.2.3/24 ipv4.method disabled')).toBeNull();
  });

  it('refuses request files with unknown keys, bad ids or windows out of bounds (the root side parses them)', () => {
    const good = { id: 'abcdefgh12', confirmSeconds: 120, restartKindling: false, ...staticAt('10.0.0.2/24') };
    expect(hostAddressRequestSchema.safeParse(good).success).toBe(true);
    for (const bad of [
      { ...good, extra: 'x' },
      { ...good, id: '../../etc/x' },
      { ...good, confirmSeconds: 5 },
      { ...good, confirmSeconds: 100_000 },
      { ...good, method: 'manual' },
      { ...good, dns: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'] },
    ])
      expect(hostAddressRequestSchema.safeParse(bad).success).toBe(false);
  });

  // Whatever reaches nmcli passed these checks: fuzz that nothing else does.
  it('lets through to nmcli only dotted quads with a prefix (3,000 mutated requests)', () => {
    const rand = prng(0x5eed);
    const alphabet = '0123456789./ ;,$`\'"\\-abc\n';
    const mutate = (s: string) => {
      const chars = [...s];
      for (let i = 0; i < 1 + Math.floor(rand() * 4); i++)
        chars.splice(
          Math.floor(rand() * (chars.length + 1)),
          rand() < 0.5 ? 1 : 0,
          alphabet[Math.floor(rand() * alphabet.length)] as string,
        );
      return chars.join('');
    };
    for (let i = 0; i < 3000; i++) {
      const request = staticAt(mutate('10.77.0.3/24'), rand() < 0.5 ? null : mutate('10.77.0.1'), [
        mutate('10.77.0.1'),
      ]);
      if (hostAddressProblems(request).length > 0) continue;
      for (const value of ipv4Properties(request).filter((_, j) => j % 2 === 1))
        expect(value).toMatch(/^(manual|auto|(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?(,(\d{1,3}\.){3}\d{1,3})*|)$/);
    }
  });
});

describe('nmcli plan', () => {
  it('applies for this boot on the device, saves into the profile, and goes back by re-activating it', () => {
    const plan = nmcliPlan(
      staticAt('10.77.0.3/24', '10.77.0.254', ['10.77.0.254', '9.9.9.9']),
      'kindling-eth0',
      'eth0',
    );
    const v4 = [
      'ipv4.method',
      'manual',
      'ipv4.addresses',
      '10.77.0.3/24',
      'ipv4.gateway',
      '10.77.0.254',
      'ipv4.dns',
      '10.77.0.254,9.9.9.9',
    ];
    expect(plan).toEqual({
      apply: ['device', 'modify', 'eth0', ...v4],
      persist: ['connection', 'modify', 'kindling-eth0', ...v4],
      revert: ['--wait', '30', 'connection', 'up', 'kindling-eth0'],
    });
  });

  it('back to the site DHCP clears the static keys', () => {
    expect(ipv4Properties({ method: 'dhcp', address: null, gateway: null, dns: [] })).toEqual([
      'ipv4.method',
      'auto',
      'ipv4.addresses',
      '',
      'ipv4.gateway',
      '',
      'ipv4.dns',
      '',
    ]);
  });
});
