import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Sequential reads sized to stay in the CPU cache between copy and hash (see POOL_READ_BYTES). */
export const HASH_CHUNK_BYTES = 1024 * 1024;

let hashed = 0;

/** Bytes hashed by this process so far (for the report's `stats.bytesHashed`). */
export function bytesHashed(): number {
  return hashed;
}

/** Hashing done elsewhere (worker threads) reports its bytes here. */
export function countHashed(bytes: number): void {
  hashed += bytes;
}

/**
 * SHA-256 of a byte range of a file (the whole file by default), streamed in
 * large reads with OpenSSL's implementation; memory stays flat.
 */
export async function sha256File(absPath: string, start = 0, end?: number): Promise<{ hex: string; bytes: number }> {
  // Never through a symlink: the inventory reports links and rules must not follow them.
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stop = end ?? (await handle.stat()).size;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, Math.max(stop - start, 1)));
    let pos = start;
    while (pos < stop) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, stop - pos), pos);
      if (bytesRead === 0) break;
      hash.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    countHashed(pos - start);
    return { hex: hash.digest('hex'), bytes: pos - start };
  } finally {
    await handle.close();
  }
}
