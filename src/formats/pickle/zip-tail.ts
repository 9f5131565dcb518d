import { readRange, type RandomAccess } from './source.js';
import { DEFAULT_LIMITS } from './scanner.js';
import type { ZipListing } from '../zip.js';

/** Where the archive a listing describes starts (its first local header) and ends (its end record and comment). */
export function archiveSpan(listing: ZipListing, size: number): { start: number; end: number } {
  const start = Math.min(...listing.entries.map((e) => e.localHeaderOffset));
  return { start, end: listing.endOfArchive ?? size };
}

/**
 * True when the bytes `[start, end)` are exactly the payload of a pickle
 * bytes opcode (BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8 and the
 * protocol 0–2 BINSTRING, SHORT_BINSTRING) that the pickle scan hands on as
 * a nested archive — e.g. torch.storage._load_from_bytes in a pickled model.
 * Such a zip was scanned as nested bytes, so it is no tail to read again.
 */
export async function isNestedPayload(ra: RandomAccess, start: number, end: number): Promise<boolean> {
  const len = end - start;
  if (start < 2 || len <= 0 || len > DEFAULT_LIMITS.maxNestedBytes) return false;
  const from = Math.max(0, start - 9);
  const h = await readRange(ra, from, start - from);
  const at = (back: number): number => h.length - back;
  if (at(2) >= 0 && (h[at(2)] === 0x43 || h[at(2)] === 0x55) && h[at(1)] === len) return true;
  if (at(5) >= 0 && (h[at(5)] === 0x42 || h[at(5)] === 0x54) && h.readUInt32LE(at(4)) === len) return true;
  return at(9) >= 0 && (h[at(9)] === 0x8e || h[at(9)] === 0x96) && h.readBigUInt64LE(at(8)) === BigInt(len);
}
