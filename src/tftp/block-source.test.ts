// FileSource reads large files 256 KiB at a time; blocks cut from those chunks must be the
// file's bytes wherever a block or a window falls against a chunk boundary.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_CHUNK_BYTES, FileSource } from './block-source.js';

let dir: string;
let path: string;
const data = randomBytes(3 * FILE_CHUNK_BYTES + 1234);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindling-block-source-'));
  path = join(dir, 'f.bin');
  await writeFile(path, data);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Walks the file window by window as ReadTransfer does, copying each block out. */
async function walk(blksize: number, windowsize: number): Promise<{ bytes: Buffer; reads: number }> {
  const source = await FileSource.open(path, data.length, blksize * windowsize);
  const out = Buffer.alloc(data.length);
  let reads = 0;
  try {
    const lastBlock = Math.floor(data.length / blksize) + 1;
    for (let from = 1; from <= lastBlock; from += windowsize) {
      const count = Math.min(windowsize, lastBlock - from + 1);
      const start = (from - 1) * blksize;
      const end = Math.min(data.length, (from - 1 + count) * blksize);
      const pending = source.prepare(start, end);
      if (pending !== null) {
        reads++;
        await pending;
      }
      // After prepare, the whole window is there without another read (a retransmission needs none).
      expect(source.prepare(start, end)).toBeNull();
      const slot = Buffer.alloc(4 + blksize);
      for (let b = from; b < from + count; b++) {
        const s = (b - 1) * blksize;
        const e = Math.min(data.length, s + blksize);
        source.copy(slot, 4, s, e);
        slot.copy(out, s, 4, 4 + e - s);
      }
    }
  } finally {
    await source.close();
  }
  return { bytes: out, reads };
}

describe('FileSource', () => {
  it.each([
    [512, 1],
    [1468, 1],
    [1468, 16],
    [1000, 7],
    [65464, 16],
  ])('returns the file byte for byte at blksize %i, windowsize %i', async (blksize, windowsize) => {
    const { bytes, reads } = await walk(blksize, windowsize);
    expect(bytes.equals(data)).toBe(true);
    // Chunks are read at the window's start, so at most one read per chunk's worth of windows.
    expect(reads).toBeLessThanOrEqual(
      Math.ceil(data.length / Math.max(FILE_CHUNK_BYTES - blksize * windowsize, blksize * windowsize)) + 1,
    );
  });

  it('fails a read when the file shrank underneath it', async () => {
    const source = await FileSource.open(path, data.length + 10, 512);
    try {
      await expect(source.prepare(data.length - 100, data.length + 10)).rejects.toThrow(/shrank/);
    } finally {
      await source.close();
    }
  });
});
