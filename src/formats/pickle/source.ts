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
      if (n > 0) data.copy(buf, off, pos, pos + n);
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

/** `[start, start + length)` of a random-access source as one of its own (a tar member that is a zip). */
export function subAccess(ra: RandomAccess, start: number, length: number): RandomAccess {
  const size = Math.max(0, Math.min(length, ra.size - start));
  return {
    size,
    readAt: (buf, off, len, pos) => (pos >= size ? Promise.resolve(0) : ra.readAt(buf, off, Math.min(len, size - pos), start + pos)),
  };
}

/** Bytes already buffered, then the rest of a stream: a format recognised by its first bytes is handed on whole. */
export function prefixedSource(prefix: Buffer, rest: ByteSource): ByteSource {
  let head = prefix;
  return {
    read: async (buf, off, max) => {
      if (head.length === 0) return rest.read(buf, off, max);
      const n = Math.min(max, head.length);
      head.copy(buf, off, 0, n);
      head = head.subarray(n);
      return n;
    },
    skip: async (n) => {
      const k = Math.min(n, head.length);
      head = head.subarray(k);
      return k + (n > k ? await rest.skip(n - k) : 0);
    },
  };
}

/**
 * A sparse file as its reader sees it: `map` lists `[offset, length]` runs of
 * stored data (stored back to back from `start`); the gaps read as zeros, up to
 * `size`. Runs out of order or overlapping end the stream where the reader would.
 */
export function sparseSource(ra: RandomAccess, start: number, map: ReadonlyArray<readonly [number, number]>, size: number): ByteSource {
  const runs: Array<{ at: number; len: number; stored: number | undefined }> = [];
  let pos = 0;
  let stored = 0;
  for (const [offset, length] of map) {
    if (offset < pos) break;
    if (offset > pos) runs.push({ at: pos, len: offset - pos, stored: undefined });
    runs.push({ at: offset, len: length, stored });
    stored += length;
    pos = offset + length;
  }
  if (pos < size) runs.push({ at: pos, len: size - pos, stored: undefined });
  let i = 0;
  let within = 0;
  const advance = (n: number): void => {
    within += n;
    while (i < runs.length && within >= runs[i]!.len) {
      within -= runs[i]!.len;
      i++;
    }
  };
  return {
    read: async (buf, off, max) => {
      while (i < runs.length && runs[i]!.len === 0) i++;
      const run = runs[i];
      if (!run || max <= 0) return 0;
      const n = Math.min(max, run.len - within);
      let got = n;
      if (run.stored === undefined) buf.fill(0, off, off + n);
      else got = await ra.readAt(buf, off, n, start + run.stored + within);
      advance(got);
      return got;
    },
    skip: async (n) => {
      let left = n;
      while (left > 0 && i < runs.length) {
        const k = Math.min(left, runs[i]!.len - within);
        advance(k);
        left -= k;
      }
      return n - left;
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

  private readonly maxOutput: number;

  constructor(ra: RandomAccess, start: number, length: number, kind: Decompression, maxOutput: number);
  /** Decompresses a stream (a file whose first bytes were already read to recognise it). */
  constructor(input: ByteSource, kind: Decompression, maxOutput: number);
  constructor(from: RandomAccess | ByteSource, a: number | Decompression, b: number, c?: Decompression, d?: number) {
    const input = 'readAt' in from ? rangeSource(from, a as number, b) : from;
    const kind = ('readAt' in from ? c : a) as Decompression;
    this.maxOutput = ('readAt' in from ? d : b) as number;
    const z = kind === 'deflate-raw' ? createInflateRaw() : kind === 'gzip' ? createGunzip() : createInflate();
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
