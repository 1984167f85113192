import { describe, expect, it } from 'vitest';
import { versionsToRemove } from './retention.js';

const held = (...vs: string[]) => vs.map((version, i) => ({ version, publishedAt: `2024-01-0${i + 1}T00:00:00Z` }));

describe('versionsToRemove', () => {
  it.each([
    {
      name: 'keeps the newest `keep`',
      versions: held('1.0.0', '2.0.0', '3.0.0'),
      current: '3.0.0',
      keep: 2,
      inUse: [],
      removed: ['1.0.0'],
    },
    {
      name: 'keeps the current one even when older',
      versions: held('1.0.0', '2.0.0', '3.0.0'),
      current: '1.0.0',
      keep: 1,
      inUse: [],
      removed: ['2.0.0'],
    },
    {
      name: 'never removes a version being installed',
      versions: held('1.0.0', '2.0.0', '3.0.0'),
      current: '3.0.0',
      keep: 1,
      inUse: ['1.0.0'],
      removed: ['2.0.0'],
    },
    {
      name: 'nothing to do under the limit',
      versions: held('1.0.0'),
      current: '1.0.0',
      keep: 2,
      inUse: [],
      removed: [],
    },
    {
      name: 'keep below 1 still keeps one',
      versions: held('1.0.0', '2.0.0'),
      current: null,
      keep: 0,
      inUse: [],
      removed: ['1.0.0'],
    },
  ])('$name', ({ versions, current, keep, inUse, removed }) => {
    expect(versionsToRemove({ versions, current, keep, inUse: new Set(inUse) }).sort()).toEqual(removed);
  });
});
