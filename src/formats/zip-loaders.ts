import { readRange, type RandomAccess } from './pickle/source.js';
import { ZipError, type ZipEntry, type ZipLimits, type ZipLoader } from './zip-types.js';

/**
 * How two loaders read the same archive. Python's `zipfile` (Keras `.keras`,
 * NumPy `.npz`) and miniz (PyTorch checkpoints) agree on well-formed archives
 * but not on hostile ones: they pick different end records, zipfile reads the
 * central directory by its size and corrects offsets shifted by a prefix,
 * miniz trusts the entry count and the offsets as written. Each function here
 * reproduces one loader's choices (CPython 3.11 `_EndRecData`,
 * `_RealGetContents`, `_decodeExtra`; miniz 3 `mz_zip_reader_locate_header_sig`,
 * `mz_zip_reader_read_central_dir`) so that mlgate scans what each would load.
 */

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const EOCD_SIG_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
export const EOCD_SIZE = 22;
const LOCATOR_SIZE = 20;
const EOCD64_SIZE = 56;
const CENTRAL_SIZE = 46;
/** zipfile looks for the end record in the last 64 KiB + 22 bytes. */
const ZIPFILE_WINDOW = 0x10000 + EOCD_SIZE;
/** miniz reads 4 KiB chunks backwards (overlapping by 3 bytes) until it is 64 KiB + 22 from the end. */
const MINIZ_CHUNK = 4096;
const MINIZ_REACH = 0xffff + EOCD_SIZE;
const U32_MAX = 0xffffffff;
/** The highest "version needed to extract" zipfile accepts. */
const ZIPFILE_MAX_VERSION = 63;

/** The last bytes of the file: both loaders' end-record searches stay inside them. */
export interface Tail {
  buf: Buffer;
  /** File offset of `buf[0]`. */
  start: number;
  size: number;
}

export async function readTail(ra: RandomAccess): Promise<Tail> {
  const len = Math.min(ra.size, ZIPFILE_WINDOW + MINIZ_CHUNK);
  return { buf: await readRange(ra, ra.size - len, len), start: ra.size - len, size: ra.size };
}

function eocdAt(t: Tail, at: number): boolean {
  const i = at - t.start;
  return i >= 0 && i + 4 <= t.buf.length && t.buf.readUInt32LE(i) === SIG_EOCD;
}

/** The comment length an end record declares. */
export function declaredComment(t: Tail, at: number): number {
  const i = at - t.start + 20;
  return i + 2 <= t.buf.length ? t.buf.readUInt16LE(i) : 0;
}

/**
 * zipfile: the record that ends the file with an empty comment, else the last
 * signature in the window — whatever comment length it declares; a signature
 * with fewer than 22 bytes after it ends the search ("not a zip file").
 */
export function zipfileEndAt(t: Tail): number | undefined {
  if (t.size < EOCD_SIZE) return undefined;
  const last = t.size - EOCD_SIZE;
  if (eocdAt(t, last) && declaredComment(t, last) === 0) return last;
  const i = t.buf.lastIndexOf(EOCD_SIG_BYTES);
  if (i < 0 || t.start + i < Math.max(0, t.size - ZIPFILE_WINDOW)) return undefined;
  return t.start + i + EOCD_SIZE <= t.size ? t.start + i : undefined;
}

/** miniz: the last signature with at least 22 bytes after it, within its backwards search. */
export function minizEndAt(t: Tail): number | undefined {
  if (t.size < EOCD_SIZE) return undefined;
  let low = Math.max(t.size - MINIZ_CHUNK, 0);
  while (low > 0 && t.size - low < MINIZ_REACH) low = Math.max(low - (MINIZ_CHUNK - 3), 0);
  for (let at = t.size - EOCD_SIZE; at >= low; at--) if (eocdAt(t, at)) return at;
  return undefined;
}

/** The last end record whose declared comment fits in the file: what a reader that checks the comment (mlgate before issue 19) takes. */
export function fittingEndAt(t: Tail): number | undefined {
  for (let at = t.size - EOCD_SIZE; at >= Math.max(t.start, t.size - ZIPFILE_WINDOW); at--) {
    if (eocdAt(t, at) && at + EOCD_SIZE + declaredComment(t, at) <= t.size) return at;
  }
  return undefined;
}

function u64(b: Buffer, at: number): number {
  const v = Number(b.readBigUInt64LE(at));
  if (!Number.isSafeInteger(v)) throw new ZipError('a ZIP64 field is larger than any file');
  return v;
}

/** One loader's reading of the archive: its members, and the figures its end record declares. */
export interface LoaderView {
  loader: ZipLoader;
  endAt: number;
  entries: ZipEntry[];
  /** Member count the end record declares. */
  declaredCount: number;
  /** zipfile only: how far the offsets were shifted to find the central directory (a prefix, or a lie). */
  shift: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/**
 * A member name as zipfile decodes it: UTF-8 when flag bit 11 says so, else
 * code page 437. miniz compares raw bytes, so its names are decoded the same
 * way (leniently) to make one member read by both carry one name.
 */
function decodeName(raw: Buffer, flags: number, strict: boolean): string {
  if (flags & 0x800) {
    if (!strict) return raw.toString('utf8');
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new ZipError('a member name flagged UTF-8 is not valid UTF-8');
    }
  }
  const name = raw.toString('latin1');
  return /[\x80-\xff]/.test(name) ? name.replace(/[\x80-\xff]/g, (c) => CP437_HIGH[c.charCodeAt(0) - 0x80]!) : name;
}

/** zipfile's name: decoded, then cut at the first NUL (ZipInfo does; miniz keeps the whole name). */
function zipfileName(raw: Buffer, flags: number): string {
  const name = decodeName(raw, flags, true);
  const nul = name.indexOf('\0');
  return nul >= 0 ? name.slice(0, nul) : name;
}

/** CPython's `ZipFile._RealGetContents`, for the end record at `at`. */
export async function zipfileView(ra: RandomAccess, at: number, limits: ZipLimits): Promise<LoaderView> {
  const rec = await readRange(ra, at, EOCD_SIZE);
  let count = rec.readUInt16LE(10);
  let cdSize = rec.readUInt32LE(12);
  let cdOffset = rec.readUInt32LE(16);
  let zip64 = false;
  if (at >= LOCATOR_SIZE) {
    const loc = await readRange(ra, at - LOCATOR_SIZE, LOCATOR_SIZE);
    if (loc.readUInt32LE(0) === SIG_LOCATOR64) {
      if (loc.readUInt32LE(4) !== 0 || loc.readUInt32LE(16) > 1) throw new ZipError('it claims to span several disks');
      // zipfile ignores where the locator points: the ZIP64 record must sit right before it.
      if (at >= LOCATOR_SIZE + EOCD64_SIZE) {
        const r = await readRange(ra, at - LOCATOR_SIZE - EOCD64_SIZE, EOCD64_SIZE);
        if (r.readUInt32LE(0) === SIG_EOCD64) {
          count = u64(r, 32);
          cdSize = u64(r, 40);
          cdOffset = u64(r, 48);
          zip64 = true;
        }
      }
    }
  }
  if (cdSize > limits.maxCentralDirectoryBytes) throw new ZipError(`the central directory is ${cdSize} bytes, over the cap of ${limits.maxCentralDirectoryBytes}`, true);
  const shift = at - cdSize - cdOffset - (zip64 ? LOCATOR_SIZE + EOCD64_SIZE : 0);
  const start = cdOffset + shift;
  if (start < 0) throw new ZipError('its central directory would start before the file does');
  const cd = await readRange(ra, start, cdSize);
  const entries: ZipEntry[] = [];
  const clip = (n: number): number => Math.min(n, cd.length);
  for (let p = 0; p < cdSize; ) {
    if (p + CENTRAL_SIZE > cd.length) throw new ZipError('its central directory is truncated');
    if (cd.readUInt32LE(p) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${entries.length} has no signature`);
    if (entries.length >= limits.maxEntries) throw new ZipError(`the archive holds over ${limits.maxEntries} members, the cap`, true);
    const version = cd[p + 6]!;
    if (version > ZIPFILE_MAX_VERSION) throw new ZipError(`a member needs zip version ${version / 10}, which zipfile refuses`);
    const flags = cd.readUInt16LE(p + 8);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let offset = cd.readUInt32LE(p + 42);
    const nameAt = p + CENTRAL_SIZE;
    const name = zipfileName(cd.subarray(clip(nameAt), clip(nameAt + nameLen)), flags);
    let extra = cd.subarray(clip(nameAt + nameLen), clip(nameAt + nameLen + extraLen));
    while (extra.length >= 4) {
      const id = extra.readUInt16LE(0);
      const len = extra.readUInt16LE(2);
      if (len + 4 > extra.length) throw new ZipError(`member ${JSON.stringify(name)} has a corrupt extra field`);
      if (id === 1) {
        let f = 4;
        const take = (what: string): number => {
          if (f + 8 > 4 + len) throw new ZipError(`member ${JSON.stringify(name)} lacks its ZIP64 ${what}`);
          f += 8;
          return u64(extra, f - 8);
        };
        if (size === U32_MAX) size = take('size');
        if (compressedSize === U32_MAX) compressedSize = take('compressed size');
        if (offset === U32_MAX) offset = take('header offset');
      }
      extra = extra.subarray(4 + len);
    }
    entries.push({ name, method: cd.readUInt16LE(p + 10), flags, compressedSize, size, localHeaderOffset: offset + shift, seenBy: ['zipfile'] });
    p += CENTRAL_SIZE + nameLen + extraLen + commentLen;
  }
  return { loader: 'zipfile', endAt: at, entries, declaredCount: count, shift };
}

/** miniz's `mz_zip_reader_read_central_dir` (and the ZIP64 fields of its file stat), for the end record at `at`. */
export async function minizView(ra: RandomAccess, at: number, limits: ZipLimits): Promise<LoaderView> {
  const rec = await readRange(ra, at, EOCD_SIZE);
  let count = rec.readUInt16LE(10);
  let onDisk = rec.readUInt16LE(8);
  let disk = rec.readUInt16LE(4);
  let cdDisk = rec.readUInt16LE(6);
  let cdSize = rec.readUInt32LE(12);
  let cdOffset = rec.readUInt32LE(16);
  if (at >= LOCATOR_SIZE + EOCD64_SIZE) {
    const loc = await readRange(ra, at - LOCATOR_SIZE, LOCATOR_SIZE);
    if (loc.readUInt32LE(0) === SIG_LOCATOR64) {
      const where = u64(loc, 8);
      if (where > ra.size - EOCD64_SIZE) throw new ZipError('its ZIP64 locator points past the end of the file');
      const r = await readRange(ra, where, EOCD64_SIZE);
      if (r.readUInt32LE(0) === SIG_EOCD64) {
        if (u64(r, 4) < EOCD64_SIZE - 12) throw new ZipError('its ZIP64 end record is too short');
        if (loc.readUInt32LE(16) !== 1) throw new ZipError('it claims to span several disks');
        count = u64(r, 32);
        onDisk = u64(r, 24);
        cdSize = u64(r, 40);
        if (count > U32_MAX || onDisk > U32_MAX || cdSize > U32_MAX) throw new ZipError('its ZIP64 end record declares more than miniz accepts');
        disk = r.readUInt32LE(16);
        cdDisk = r.readUInt32LE(20);
        cdOffset = u64(r, 48);
      }
    }
  }
  if (count !== onDisk || ((disk | cdDisk) !== 0 && (disk !== 1 || cdDisk !== 1))) throw new ZipError('it claims to span several disks');
  if (count > limits.maxEntries) throw new ZipError(`the archive lists ${count} members, over the cap of ${limits.maxEntries}`, true);
  if (cdSize > limits.maxCentralDirectoryBytes) throw new ZipError(`the central directory is ${cdSize} bytes, over the cap of ${limits.maxCentralDirectoryBytes}`, true);
  if (cdSize < count * CENTRAL_SIZE) throw new ZipError(`its central directory (${cdSize} bytes) is too small for the ${count} members the end record lists`);
  if (cdOffset + cdSize > ra.size) throw new ZipError('the central directory lies beyond the end of the file');
  const cd = await readRange(ra, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  // miniz checks the extra fields of saturated entries for a ZIP64 field until it has seen one.
  let sawZip64Field = false;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${i} is malformed`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const diskStart = cd.readUInt16LE(p + 34);
    let offset = cd.readUInt32LE(p + 42);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cd.length) throw new ZipError(`central directory entry ${i} runs past the directory`);
    const name = decodeName(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen), flags, false);
    if (!sawZip64Field && extraLen && Math.max(size, compressedSize, offset) === U32_MAX) {
      for (let x = p + CENTRAL_SIZE + nameLen, left = extraLen; left; ) {
        if (left < 4 || cd.readUInt16LE(x + 2) + 4 > left) throw new ZipError(`member ${JSON.stringify(name)} has a corrupt extra field`);
        if (cd.readUInt16LE(x) === 1) {
          sawZip64Field = true;
          break;
        }
        left -= 4 + cd.readUInt16LE(x + 2);
        x += 4 + cd.readUInt16LE(x + 2);
      }
    }
    if (compressedSize !== U32_MAX && size !== U32_MAX && ((method === 0 && size !== compressedSize) || (size && !compressedSize))) {
      throw new ZipError(`member ${JSON.stringify(name)} declares sizes miniz rejects (${compressedSize} stored as ${size})`);
    }
    if (diskStart === 0xffff || (diskStart !== disk && diskStart !== 1)) throw new ZipError(`member ${JSON.stringify(name)} claims to be on another disk`);
    if (compressedSize !== U32_MAX && offset + 30 + compressedSize > ra.size) throw new ZipError(`member ${JSON.stringify(name)} runs past the end of the file (truncated archive)`);
    if (flags & 0x2000) throw new ZipError(`member ${JSON.stringify(name)} has an encrypted central directory`);
    if (size === U32_MAX || compressedSize === U32_MAX || offset === U32_MAX) {
      // ZIP64 extended information: present fields follow in this order, only for values saturated above.
      let x = p + CENTRAL_SIZE + nameLen;
      const xEnd = x + extraLen;
      for (; x + 4 <= xEnd; x += 4 + cd.readUInt16LE(x + 2)) {
        if (cd.readUInt16LE(x) !== 1) continue;
        let f = x + 4;
        const fEnd = Math.min(f + cd.readUInt16LE(x + 2), xEnd);
        const take = (): number => {
          if (f + 8 > fEnd) throw new ZipError(`member ${JSON.stringify(name)} lacks a ZIP64 field it needs`);
          f += 8;
          return u64(cd, f - 8);
        };
        if (size === U32_MAX) size = take();
        if (compressedSize === U32_MAX) compressedSize = take();
        if (offset === U32_MAX) offset = take();
        break;
      }
    }
    entries.push({ name, method, flags, compressedSize, size, localHeaderOffset: offset, seenBy: ['miniz'] });
    p = next;
  }
  return { loader: 'miniz', endAt: at, entries, declaredCount: count, shift: 0 };
}
