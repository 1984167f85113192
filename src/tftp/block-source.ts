// Where a transfer's bytes come from: a shared cached buffer (small files) or positional
// reads into one bounded chunk per transfer (large files), so memory per transfer is
// fixed whatever the file size.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

export interface BlockSource {
  readonly size: number;
  /**
   * Makes bytes [start, end) copyable. Returns null when they already are (always for
   * cached files, and for most windows of large ones), so the hot path stays synchronous.
   */
  prepare(start: number, end: number): Promise<void> | null;
  copy(target: Buffer, targetStart: number, start: number, end: number): void;
  close(): Promise<void>;
}

export class BufferSource implements BlockSource {
  constructor(private readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  prepare(): null {
    return null;
  }
  copy(target: Buffer, targetStart: number, start: number, end: number): void {
    this.data.copy(target, targetStart, start, end);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Read size for large files: big enough that syscalls are few, small enough for 256 transfers. */
export const FILE_CHUNK_BYTES = 256 * 1024;

export class FileSource implements BlockSource {
  private chunkStart = 0;
  private chunkEnd = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    private readonly chunk: Buffer,
  ) {}

  static async open(path: string, size: number, windowBytes: number): Promise<FileSource> {
    const handle = await open(path, 'r');
    return new FileSource(handle, size, Buffer.allocUnsafe(Math.max(FILE_CHUNK_BYTES, windowBytes)));
  }

  prepare(start: number, end: number): Promise<void> | null {
    if (start >= this.chunkStart && end <= this.chunkEnd) return null;
    return this.fill(start);
  }

  private async fill(start: number): Promise<void> {
    // The chunk starts at the window's first byte, so a retransmitted window never needs a re-read.
    const want = Math.min(this.chunk.length, this.size - start);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.chunk, got, want - got, start + got);
      if (bytesRead === 0) throw new Error(`file shrank to ${start + got} bytes during the transfer`);
      got += bytesRead;
    }
    this.chunkStart = start;
    this.chunkEnd = start + got;
  }

  copy(target: Buffer, targetStart: number, start: number, end: number): void {
    this.chunk.copy(target, targetStart, start - this.chunkStart, end - this.chunkStart);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
