/**
 * Compressed streams recognised by their first bytes, as joblib
 * (`joblib/compressor.py`), `gzip.open` and `lzma.open` recognise them.
 * Node decodes gzip and zlib; the rest can only be named.
 */
export type Compression = 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'lz4' | 'zstd';

const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const LZ4 = Buffer.from([0x04, 0x22, 0x4d, 0x18]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const BZ_BLOCK = Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
const BZ_END = Buffer.from([0x17, 0x72, 0x45, 0x38, 0x50, 0x90]);

/** A raw `.lzma` ("alone") header: properties 0x5d, a dictionary size liblzma accepts, a size or "unknown". */
function lzmaAlone(h: Buffer, strict: boolean): boolean {
  if (h.length < 13 || h[0] !== 0x5d || h[1] !== 0x00 || h[2] !== 0x00) return false;
  if (strict) return true;
  const size = h.readBigUInt64LE(5);
  return dictionarySize(h.readUInt32LE(1)) && (size === 0xffffffffffffffffn || size < 1n << 48n);
}

/** 2^n or 2^n + 2^(n-1), from 4 KiB: what xz and Python's lzma write. */
function dictionarySize(n: number): boolean {
  for (let b = 12; b < 32; b++) if (n === 2 ** b || n === 2 ** b + 2 ** (b - 1)) return true;
  return false;
}

/**
 * The compression a file's head announces. `strict` (the name says pickle)
 * accepts the short prefixes joblib itself trusts; otherwise a longer
 * signature is required, so data that happens to start with `BZh` or
 * `5d 00 00` is not taken for a compressed stream.
 */
export function compressionOf(h: Buffer, strict: boolean): Compression | undefined {
  if (h.length < 2) return undefined;
  if (h[0] === 0x1f && h[1] === 0x8b && h[2] === 8) return 'gzip';
  // CMF 0x78 (deflate, 32 KiB window), a valid check value and no preset dictionary.
  if (h[0] === 0x78 && (0x7800 | h[1]!) % 31 === 0 && (h[1]! & 0x20) === 0) return 'zlib';
  if (h.subarray(0, 6).equals(XZ)) return 'xz';
  if (h.subarray(0, 4).equals(LZ4)) return 'lz4';
  if (h.subarray(0, 4).equals(ZSTD)) return 'zstd';
  if (h[0] === 0x42 && h[1] === 0x5a && h[2] === 0x68 && h[3]! >= 0x31 && h[3]! <= 0x39) {
    const block = h.subarray(4, 10);
    if (strict || block.equals(BZ_BLOCK) || block.equals(BZ_END)) return 'bzip2';
  }
  if (lzmaAlone(h, strict)) return 'lzma';
  return undefined;
}
