import { InflateSource, rangeSource, readRange, type ByteSource, type RandomAccess } from './pickle/source.js';

/**
 * A bounded zip reader that sees an archive the way PyTorch's loader (miniz)
 * does: the central directory is trusted; general-purpose flags, CRCs and the
 * names in local headers are ignored (a local header only says where the data
 * starts). ZIP64 is supported. Nothing is extracted to disk.
 */

export interface ZipLimits {
  maxEntries: number;
  maxCentralDirectoryBytes: number;
  /** Largest uncompressed/compressed ratio accepted for a deflated member. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxCentralDirectoryBytes: 64 * 1024 * 1024, maxRatio: 200 };

export interface ZipEntry {
  /** Name from the central directory (what the loader looks members up by). */
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class ZipError extends Error {
  override name = 'ZipError';
  constructor(
    message: string,
    /** A cap was reached (as opposed to a malformed archive). */
    readonly budget = false,
  ) {
    super(message);
  }
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

/** True when the first bytes are a local file header or an empty archive's end record. */
export function looksLikeZipStart(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

function u64(b: Buffer, at: number): number {
  const v = Number(b.readBigUInt64LE(at));
  if (!Number.isSafeInteger(v)) throw new ZipError('a ZIP64 field is larger than any file');
  return v;
}

/** Finds the end-of-central-directory record; undefined when there is none. */
async function findEnd(ra: RandomAccess): Promise<{ at: number; rec: Buffer } | undefined> {
  const tailLen = Math.min(ra.size, EOCD_MIN + MAX_COMMENT);
  if (tailLen < EOCD_MIN) return undefined;
  const tailStart = ra.size - tailLen;
  const tail = await readRange(ra, tailStart, tailLen);
  for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== SIG_EOCD) continue;
    const commentLen = tail.readUInt16LE(i + 20);
    if (i + EOCD_MIN + commentLen <= tail.length) return { at: tailStart + i, rec: tail.subarray(i, i + EOCD_MIN) };
  }
  return undefined;
}

/** The central directory's entries; throws ZipError when it cannot be read as the loader would. */
export async function readCentralDirectory(ra: RandomAccess, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipEntry[]> {
  const end = await findEnd(ra);
  if (!end) throw new ZipError('no end-of-central-directory record');
  let count = end.rec.readUInt16LE(10);
  let cdSize = end.rec.readUInt32LE(12);
  let cdOffset = end.rec.readUInt32LE(16);
  if (end.at >= 20) {
    const loc = await readRange(ra, end.at - 20, 20);
    if (loc.readUInt32LE(0) === SIG_LOCATOR64) {
      const at = u64(loc, 8);
      const rec = await readRange(ra, at, 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== SIG_EOCD64) throw new ZipError('the ZIP64 end record is missing where its locator points');
      count = u64(rec, 32);
      cdSize = u64(rec, 40);
      cdOffset = u64(rec, 48);
    }
  }
  if (count > limits.maxEntries) throw new ZipError(`the archive lists ${count} members, over the cap of ${limits.maxEntries}`, true);
  if (cdSize > limits.maxCentralDirectoryBytes) throw new ZipError(`the central directory is ${cdSize} bytes, over the cap of ${limits.maxCentralDirectoryBytes}`, true);
  if (cdOffset + cdSize > ra.size) throw new ZipError('the central directory lies beyond the end of the file');
  const cd = await readRange(ra, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${i} is malformed`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) throw new ZipError(`central directory entry ${i} runs past the directory`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: present fields follow in this order, only for values saturated above.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 1) {
        let f = x + 4;
        const fEnd = Math.min(f + len, xEnd);
        if (size === 0xffffffff && f + 8 <= fEnd) {
          size = u64(cd, f);
          f += 8;
        }
        if (compressedSize === 0xffffffff && f + 8 <= fEnd) {
          compressedSize = u64(cd, f);
          f += 8;
        }
        if (localHeaderOffset === 0xffffffff && f + 8 <= fEnd) localHeaderOffset = u64(cd, f);
      }
      x += 4 + len;
    }
    entries.push({ name, method, flags, compressedSize, size, localHeaderOffset });
    p = next;
  }
  return entries;
}

/** Where a member's data starts: after its local header, whose name and extra field lengths are taken as written. */
export async function dataOffset(ra: RandomAccess, e: ZipEntry): Promise<number> {
  const h = await readRange(ra, e.localHeaderOffset, 30);
  if (h.length < 30 || h.readUInt32LE(0) !== SIG_LOCAL) throw new ZipError(`member ${JSON.stringify(e.name)} has no local header at offset ${e.localHeaderOffset}`);
  const start = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
  if (start + e.compressedSize > ra.size) throw new ZipError(`member ${JSON.stringify(e.name)} runs past the end of the file (truncated archive)`);
  return start;
}

export interface MemberStream {
  source: ByteSource;
  /** Random access to the member's bytes when it is stored (uncompressed). */
  access?: RandomAccess;
  /** After reading: true when a deflated member produced more than its declared size. */
  overflowed(): boolean;
  close(): void;
}

/** Opens a member for streaming: stored members directly, deflated ones through zlib with a size cap. */
export async function openMember(ra: RandomAccess, e: ZipEntry, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<MemberStream> {
  const start = await dataOffset(ra, e);
  if (e.method === 0) {
    const access: RandomAccess = {
      size: e.compressedSize,
      readAt: (buf, off, len, pos) => ra.readAt(buf, off, Math.max(0, Math.min(len, e.compressedSize - pos)), start + pos),
    };
    return { source: rangeSource(ra, start, e.compressedSize), access, overflowed: () => false, close: () => {} };
  }
  if (e.method === 8) {
    if (e.size > 1024 * 1024 && e.size / Math.max(1, e.compressedSize) > limits.maxRatio) {
      throw new ZipError(`member ${JSON.stringify(e.name)} claims ${e.size} bytes from ${e.compressedSize} compressed (ratio over ${limits.maxRatio}: a decompression bomb)`, true);
    }
    const src = new InflateSource(ra, start, e.compressedSize, 'deflate-raw', e.size);
    return { source: src, overflowed: () => src.overflow, close: () => src.close() };
  }
  throw new ZipError(`member ${JSON.stringify(e.name)} uses compression method ${e.method}, which mlgate cannot read`);
}
