import { describe, expect, it } from 'vitest';
import { macHyphen, parseMac, tryParseMac } from './mac.js';

describe('parseMac', () => {
  it.each([
    ['52:54:00:aa:bb:cc', '52:54:00:aa:bb:cc'],
    ['52-54-00-AA-BB-CC', '52:54:00:aa:bb:cc'],
    ['52:54:00:AA:bb:Cc', '52:54:00:aa:bb:cc'],
    ['525400aabbcc', '52:54:00:aa:bb:cc'],
    [' 52:54:00:aa:bb:cc\n', '52:54:00:aa:bb:cc'],
  ])('accepts %j', (input, canonical) => {
    expect(parseMac(input)).toBe(canonical);
  });

  it.each([
    '',
    '52:54:00:aa:bb',
    '52:54:00:aa:bb:cc:dd',
    '52:54-00:aa:bb:cc',
    'zz:54:00:aa:bb:cc',
    '../etc/passwd',
    '52:54:00:aa:bb:c',
  ])('refuses %j with a clear message', (input) => {
    expect(() => parseMac(input)).toThrow(/is not a MAC address; expected six hex pairs/);
    expect(tryParseMac(input)).toBeNull();
  });

  it('gives the hyphen form pxelinux and iPXE use', () => {
    expect(macHyphen('52:54:00:aa:bb:cc')).toBe('52-54-00-aa-bb-cc');
  });
});
