import { describe, expect, it } from 'vitest';
import { checkRequestPath } from './request-path.js';
import { toNetascii } from './netascii.js';

describe('checkRequestPath', () => {
  it.each([
    ['ipxe.efi', ['ipxe.efi']],
    ['pxelinux.cfg/01-52-54-00-55-1c-ee', ['pxelinux.cfg', '01-52-54-00-55-1c-ee']],
    ['./pxelinux.0', ['pxelinux.0']],
    ['a//b', ['a', 'b']],
    ['dots..in..name', ['dots..in..name']],
    ['...', ['...']],
  ])('accepts %s', (name, segments) => {
    expect(checkRequestPath(name)).toEqual({ ok: true, segments });
  });

  it.each([
    ['', /empty/],
    ['../etc/passwd', /parent directory/],
    ['a/../../etc/passwd', /parent directory/],
    ['a/..', /parent directory/],
    ['/etc/passwd', /absolute/],
    ['..\\..\\etc\\passwd', /backslash/],
    ['a\\b', /backslash/],
    ['a\0b', /NUL/],
    ['a\nb', /control/],
    ['bad\ufffdutf8', /non-UTF-8/],
    ['.', /no file part/],
    ['./', /no file part/],
    ['x'.repeat(1025), /longer than/],
  ])('refuses %j', (name, reason) => {
    const result = checkRequestPath(name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('toNetascii', () => {
  it.each([
    ['plain', 'plain'],
    ['a\nb', 'a\r\nb'],
    ['a\rb', 'a\r\0b'],
    ['\r\n', '\r\0\r\n'],
    ['', ''],
  ])('%j -> %j', (input, output) => {
    expect(toNetascii(Buffer.from(input, 'latin1')).toString('latin1')).toBe(output);
  });
});
