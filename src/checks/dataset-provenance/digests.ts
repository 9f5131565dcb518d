import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { HASH_CHUNK_BYTES } from '../../core/hash.js';

export interface Md5Result {
  /** Of the bytes as stored. */
  raw: string;
  /** Of the bytes with CRLF turned into LF, for a text file (what DVC < 3.0 recorded); undefined for binary files. */
  lf?: string;
}

/** Git's heuristic: a NUL byte in the first 8000 bytes makes a file binary. */
const BINARY_SNIFF_BYTES = 8000;

/** MD5 as DVC records it, streamed; `legacy` also computes DVC 2's CRLF→LF form of text files. */
export async function md5File(absPath: string, legacy: boolean, signal?: AbortSignal): Promise<Md5Result> {
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const raw = createHash('md5');
    let lf: ReturnType<typeof createHash> | undefined = legacy ? createHash('md5') : undefined;
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let pos = 0;
    let pendingCr = false;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (lf && pos < BINARY_SNIFF_BYTES && chunk.subarray(0, BINARY_SNIFF_BYTES - pos).includes(0)) lf = undefined;
      raw.update(chunk);
      if (lf) {
        let text: Buffer = pendingCr ? Buffer.concat([Buffer.from('\r'), chunk]) : chunk;
        pendingCr = text[text.length - 1] === 0x0d;
        if (pendingCr) text = text.subarray(0, text.length - 1);
        lf.update(text.includes(0x0d) ? Buffer.from(text.toString('latin1').replace(/\r\n/g, '\n'), 'latin1') : text);
      }
      pos += bytesRead;
    }
    if (lf && pendingCr) lf.update('\r');
    return { raw: raw.digest('hex'), lf: lf?.digest('hex') };
  } finally {
    await handle.close();
  }
}

