import { describe, expect, it } from 'vitest';
import { formatProgress, ProgressMeter } from './progress.js';
import type { ProgressEvent } from './types.js';
import { compareVersions } from './version-order.js';

describe('formatProgress', () => {
  it('prints size, percentage, rate and ETA on one line', () => {
    expect(
      formatProgress({
        source: 'flatcar-stable',
        file: 'flatcar_production_image.bin.bz2',
        bytes: 120 << 20,
        total: 480 << 20,
        rate: 11.2 * 1048576,
        eta: 32,
        done: false,
      }),
    ).toBe('flatcar-stable  flatcar_production_image.bin.bz2  120.0 MiB / 480.0 MiB  25%  11.2 MiB/s  ETA 0:32');
    expect(formatProgress({ source: 's', file: 'f', bytes: 10, total: null, rate: 0, eta: null, done: false })).toBe(
      's  f  10 B  0 B/s  ETA ?',
    );
    expect(formatProgress({ source: 's', file: 'f', bytes: 2048, total: 2048, rate: 1, eta: 0, done: true })).toBe(
      's  f  2.0 KiB / 2.0 KiB  100%  done',
    );
  });
});

describe('ProgressMeter', () => {
  it('computes the rate and ETA from a clock and throttles events', () => {
    let now = 0;
    const events: ProgressEvent[] = [];
    const meter = new ProgressMeter(
      { source: 's', file: 'f', total: 10_000, startBytes: 0 },
      (e) => events.push(e),
      () => now,
    );
    now = 1000;
    meter.update(1000);
    now = 1100;
    meter.update(1100); // within the interval: no event
    now = 2000;
    meter.update(2000);
    meter.update(10_000, true);
    expect(events.map((e) => [e.bytes, e.rate, e.eta, e.done])).toEqual([
      [1000, 1000, 9, false],
      [2000, 1000, 8, false],
      [10_000, 1000, 0, true],
    ]);
  });
});

describe('compareVersions', () => {
  it('orders dotted numbers as numbers', () => {
    expect(['3815.10.0', '3815.2.0', '39.20240210.3.0', '3815.2.1'].sort(compareVersions)).toEqual([
      '39.20240210.3.0',
      '3815.2.0',
      '3815.2.1',
      '3815.10.0',
    ]);
  });
});
