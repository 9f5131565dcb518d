import { createInflateRaw, createGunzip, createInflate } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';

/** A sequential byte stream the scanners pull from; memory stays flat whatever its length. */
export interface ByteSource {
  /** Reads up to `max` bytes into `buf` at `off`; 0 means end of stream. */
  read(buf: Buffer, off: number, max: number): Promise<number>;
  /** Skips `n` bytes without handing them out; returns how many were skipped (fewer at the end). */
  skip(n: number): Promise<number>;
}

/** Random access to a file or a buffer (zip central directories, stored members, byte ranges). */
export interface RandomAccess {
  readonly size: number;
  /** Reads up to `len` bytes at `pos` into `buf` at `off`; returns how many were read. */
  readAt(buf: Buffer, off: number, len: number, pos: number): Promise<number>;
}

export function fileAccess(handle: FileHandle, size: number): RandomAccess {
  return {
    size,
    readAt: async (buf, off, len, pos) => (await handle.read(buf, off, len, pos)).bytesRead,
  };
}

export function bufferAccess(data: Buffer): RandomAccess {
  return {
    size: data.length,
    readAt: async (buf, off, len, pos) => {
      const n = Math.max(0, Math.min(len, data.length - pos));
      data.copy(buf, off, pos, pos + n);
      return n;
    },
  };
}

/** Reads exactly `len` bytes at `pos` (fewer only at the end of the data). */
export async function readRange(ra: RandomAccess, pos: number, len: number): Promise<Buffer> {
  const n = Math.max(0, Math.min(len, ra.size - pos));
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const r = await ra.readAt(buf, got, n - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return got === n ? buf : buf.subarray(0, got);
}

/** `[start, start + length)` of a random-access source as a stream; skipping costs nothing. */
export function rangeSource(ra: RandomAccess, start: number, length: number): ByteSource {
  let pos = start;
  const stop = Math.min(ra.size, start + length);
  return {
    read: async (buf, off, max) => {
      const n = Math.min(max, stop - pos);
      if (n <= 0) return 0;
      const r = await ra.readAt(buf, off, n, pos);
      pos += r;
      return r;
    },
    skip: async (n) => {
      const k = Math.max(0, Math.min(n, stop - pos));
      pos += k;
      return k;
    },
  };
}

export type Decompression = 'deflate-raw' | 'gzip' | 'zlib';

/** Compressed data that zlib rejects (corrupt or cut short). */
export class DecompressError extends Error {
  override name = 'DecompressError';
}

/**
 * A decompressed view of `[start, start + length)`. Output beyond `maxOutput`
 * ends the stream with `overflow` set, so a decompression bomb costs at most
 * `maxOutput` bytes of work and nothing of memory.
 */
export class InflateSource implements ByteSource {
  overflow = false;
  produced = 0;
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;
  private readonly it: AsyncIterator<Buffer>;
  private done = false;

  constructor(ra: RandomAccess, start: number, length: number, kind: Decompression, private readonly maxOutput: number) {
    const z = kind === 'deflate-raw' ? createInflateRaw() : kind === 'gzip' ? createGunzip() : createInflate();
    const input = rangeSource(ra, start, length);
    const pump = async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(256 * 1024);
      try {
        for (;;) {
          const n = await input.read(buf, 0, buf.length);
          if (n === 0) break;
          if (!z.write(Buffer.from(buf.subarray(0, n)))) await new Promise<void>((r) => z.once('drain', () => r()));
          if (this.done) break;
        }
        z.end();
      } catch (e) {
        z.destroy(e as Error);
      }
    };
    void pump();
    this.it = z[Symbol.asyncIterator]();
  }

  /** Stops decompressing; later reads return end of stream. */
  close(): void {
    if (this.done) return;
    this.done = true;
    void this.it.return?.();
  }

  private async next(): Promise<boolean> {
    if (this.done) return false;
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (e) {
      this.done = true;
      throw new DecompressError(e instanceof Error ? e.message : String(e));
    }
    if (r.done) {
      this.done = true;
      return false;
    }
    this.chunk = r.value as Buffer;
    this.at = 0;
    this.produced += this.chunk.length;
    if (this.produced > this.maxOutput) {
      this.overflow = true;
      const keep = this.chunk.length - (this.produced - this.maxOutput);
      this.chunk = this.chunk.subarray(0, Math.max(0, keep));
      this.close();
    }
    return true;
  }

  async read(buf: Buffer, off: number, max: number): Promise<number> {
    while (this.at >= this.chunk.length) if (!(await this.next())) return 0;
    const n = Math.min(max, this.chunk.length - this.at);
    this.chunk.copy(buf, off, this.at, this.at + n);
    this.at += n;
    return n;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.at >= this.chunk.length && !(await this.next())) break;
      const k = Math.min(left, this.chunk.length - this.at);
      this.at += k;
      left -= k;
    }
    return n - left;
  }
}
