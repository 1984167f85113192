import { describe, expect, it } from 'vitest';
import { negotiate, parseMode, type NegotiationLimits } from './options.js';
import type { OptionList } from './packet.js';

const limits: NegotiationLimits = {
  maxBlksize: 1468,
  maxWindowsize: 64,
  maxWindowBytes: 1024 * 1024,
  maxTimeoutSeconds: 10,
};

describe('negotiate', () => {
  const table: Array<
    [
      string,
      OptionList,
      { blksize: number; windowsize: number; timeoutMs: number | null; oack: Array<[string, string]> | null },
    ]
  > = [
    ['no options: RFC 1350 defaults, no OACK', [], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
    [
      'iPXE: blksize 1432 and tsize',
      [
        ['blksize', '1432'],
        ['tsize', '0'],
      ],
      {
        blksize: 1432,
        windowsize: 1,
        timeoutMs: null,
        oack: [
          ['blksize', '1432'],
          ['tsize', '1000'],
        ],
      },
    ],
    [
      'EDK2: blksize 1468, tsize, windowsize 4',
      [
        ['blksize', '1468'],
        ['tsize', '0'],
        ['windowsize', '4'],
      ],
      {
        blksize: 1468,
        windowsize: 4,
        timeoutMs: null,
        oack: [
          ['blksize', '1468'],
          ['tsize', '1000'],
          ['windowsize', '4'],
        ],
      },
    ],
    [
      'blksize capped by the configured maximum',
      [['blksize', '65464']],
      { blksize: 1468, windowsize: 1, timeoutMs: null, oack: [['blksize', '1468']] },
    ],
    ['blksize below 8 ignored', [['blksize', '7']], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
    [
      'blksize above 65464 ignored',
      [['blksize', '65465']],
      { blksize: 512, windowsize: 1, timeoutMs: null, oack: null },
    ],
    [
      'blksize not a number ignored',
      [['blksize', '1e3']],
      { blksize: 512, windowsize: 1, timeoutMs: null, oack: null },
    ],
    [
      'absurd number ignored',
      [['blksize', '99999999999999999999']],
      { blksize: 512, windowsize: 1, timeoutMs: null, oack: null },
    ],
    [
      'option names are case-insensitive',
      [['BlkSize', '1024']],
      { blksize: 1024, windowsize: 1, timeoutMs: null, oack: [['blksize', '1024']] },
    ],
    [
      'timeout in range',
      [['timeout', '3']],
      { blksize: 512, windowsize: 1, timeoutMs: 3000, oack: [['timeout', '3']] },
    ],
    ['timeout 0 ignored', [['timeout', '0']], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
    [
      'timeout at the cap granted',
      [['timeout', '10']],
      { blksize: 512, windowsize: 1, timeoutMs: 10_000, oack: [['timeout', '10']] },
    ],
    [
      'timeout 255 over the cap left out, blksize still granted',
      [
        ['blksize', '1468'],
        ['timeout', '255'],
      ],
      { blksize: 1468, windowsize: 1, timeoutMs: null, oack: [['blksize', '1468']] },
    ],
    ['timeout 256 ignored', [['timeout', '256']], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
    [
      'windowsize capped',
      [['windowsize', '65535']],
      { blksize: 512, windowsize: 64, timeoutMs: null, oack: [['windowsize', '64']] },
    ],
    ['windowsize 0 ignored', [['windowsize', '0']], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
    [
      'unknown options ignored',
      [
        ['multicast', ''],
        ['rollover', '0'],
      ],
      { blksize: 512, windowsize: 1, timeoutMs: null, oack: null },
    ],
    ['tsize with a non-number ignored', [['tsize', 'x']], { blksize: 512, windowsize: 1, timeoutMs: null, oack: null }],
  ];
  it.each(table)('%s', (_name, options, expected) => {
    expect(negotiate(options, 1000, limits)).toEqual({ ok: true, value: expected });
  });

  it('bounds one window by bytes, whatever order the options come in', () => {
    const big: NegotiationLimits = { ...limits, maxBlksize: 65464 };
    const result = negotiate(
      [
        ['windowsize', '64'],
        ['blksize', '65464'],
      ],
      10,
      big,
    );
    expect(result.ok && result.value.windowsize).toBe(16);
    expect(result.ok && result.value.oack).toEqual([
      ['windowsize', '16'],
      ['blksize', '65464'],
    ]);
  });

  it('refuses a repeated option', () => {
    expect(
      negotiate(
        [
          ['blksize', '1024'],
          ['BLKSIZE', '512'],
        ],
        1,
        limits,
      ),
    ).toEqual({ ok: false, reason: 'option "blksize" appears more than once' });
  });

  it('shortens a long repeated option name in its reason', () => {
    const name = 'x'.repeat(30_000);
    const result = negotiate(
      [
        [name, '1'],
        [name, '1'],
      ],
      1,
      limits,
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason.length).toBeLessThan(200);
  });
});

describe('parseMode', () => {
  it.each([
    ['octet', 'octet'],
    ['OCTET', 'octet'],
    ['netascii', 'netascii'],
    ['NetAscii', 'netascii'],
    ['mail', null],
    ['binary', null],
    ['', null],
  ] as const)('%s -> %s', (input, expected) => {
    expect(parseMode(input)).toBe(expected);
  });
});
