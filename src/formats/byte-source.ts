import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';

/**
 * Random access to a file's bytes without reading it whole, so a header
 * parser costs what the header costs, whatever the file's size. Tests use
 * the in-memory form.
 */
export interface ByteSource {
  readonly size: number;
  /** Up to `len` bytes at `pos` (fewer at the end of the file). */
  read(pos: number, len: number): Buffer;
}

export function bufferSource(buf: Uint8Array): ByteSource {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return { size: b.length, read: (pos, len) => b.subarray(pos, Math.min(b.length, pos + len)) };
}

/** Opens a file (never following a symlink) for `fn`; reads are synchronous, small and bounded by the caller. */
export function withFileSource<T>(absPath: string, fn: (src: ByteSource) => T): T {
  const fd = openSync(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    return fn({
      size,
      read: (pos, len) => {
        const n = Math.max(0, Math.min(len, size - pos));
        const buf = Buffer.allocUnsafe(n);
        let off = 0;
        while (off < n) {
          const got = readSync(fd, buf, off, n - off, pos + off);
          if (got === 0) break;
          off += got;
        }
        return buf.subarray(0, off);
      },
    });
  } finally {
    closeSync(fd);
  }
}
