import { describe, expect, it } from 'vitest';
import { renderBootPlan, type ScriptPlan } from './ipxe.js';

// Each plan kind as the console shows it: the exact script, since people read them on the machine page.

const kernel: ScriptPlan = {
  kind: 'install',
  banner: 'Kindling: n1 (52:54:00:00:00:01): installing',
  kernel: 'http://10.0.0.1/k',
  initrds: ['http://10.0.0.1/i0', 'http://10.0.0.1/i1'],
  args: ['a=1', 'console=ttyS0'],
};

describe('renderBootPlan', () => {
  it('loads the kernel with every initrd named and passed', () => {
    expect(renderBootPlan(kernel)).toBe(
      [
        '#!ipxe',
        'echo Kindling: n1 (52:54:00:00:00:01): installing',
        'initrd --name initrd0 http://10.0.0.1/i0',
        'initrd --name initrd1 http://10.0.0.1/i1',
        'kernel http://10.0.0.1/k initrd=initrd0 initrd=initrd1 a=1 console=ttyS0',
        'boot',
        '',
      ].join('\n'),
    );
    expect(renderBootPlan({ ...kernel, kind: 'live' })).toBe(renderBootPlan(kernel));
  });

  it('hands a BIOS machine to its first disk and returns a UEFI one to its firmware', () => {
    expect(renderBootPlan({ kind: 'local-disk', banner: 'disk', firmware: 'pcbios' })).toBe(
      '#!ipxe\necho disk\nsanboot --no-describe --drive 0x80 || exit 1\n',
    );
    expect(renderBootPlan({ kind: 'local-disk', banner: 'disk', firmware: 'efi' })).toBe('#!ipxe\necho disk\nexit 1\n');
  });

  it('waits, then asks /ipxe again with the facts iPXE fills in', () => {
    expect(
      renderBootPlan({ kind: 'wait', banner: 'no profile', retry: { url: 'http://10.0.0.1/ipxe', seconds: 7 } }),
    ).toBe(
      [
        '#!ipxe',
        'echo no profile',
        'echo Asking again in 7 seconds',
        'sleep 7',
        'chain --autofree --replace http://10.0.0.1/ipxe?' +
          'mac=${net0/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}&platform=${platform}',
        '',
      ].join('\n'),
    );
  });

  it('keeps every banner to one printable line of at most 160 characters, without iPXE expansions', () => {
    for (const plan of [
      kernel,
      { kind: 'local-disk', banner: '', firmware: 'efi' } as const,
      { kind: 'wait', banner: '', retry: { url: 'u', seconds: 1 } } as const,
    ]) {
      const echo = renderBootPlan({ ...plan, banner: `x\ny\u0000\u00e9 \${net0/mac} ${'z'.repeat(300)}` }).split(
        '\n',
      )[1]!;
      expect(echo).toMatch(/^echo [\x20-\x7e]{1,160}$/);
      expect(echo).not.toContain('${');
    }
  });
});
