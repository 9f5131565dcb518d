/**
 * NumPy `.npy` headers (numpy/lib/format.py): magic `\x93NUMPY`, version,
 * header length, then a Python dict literal with `descr`, `fortran_order`
 * and `shape`. An object dtype means the array body is a pickle.
 */
export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** numpy itself refuses headers over 10,000 bytes by default; a little slack for older writers. */
export const NPY_MAX_HEADER = 64 * 1024;

export interface NpyHeader {
  /** Bytes before the array data. */
  dataOffset: number;
  descr: string;
  /** True when the dtype holds Python objects: the data is a pickle. */
  hasObject: boolean;
}

export class NpyError extends Error {
  override name = 'NpyError';
}

export function looksLikeNpy(head: Buffer): boolean {
  return head.length >= 6 && head.subarray(0, 6).equals(NPY_MAGIC);
}

/** Length of the fixed prefix for a version: how many bytes to read before `parseNpyHeader`. */
export function npyPrefixLength(head: Buffer): number {
  if (head.length < 8) throw new NpyError('the .npy header is truncated');
  const major = head[6]!;
  if (major === 1) return 10;
  if (major === 2 || major === 3) return 12;
  throw new NpyError(`unknown .npy format version ${major}`);
}

/** Parses the header from a buffer holding at least the prefix and the header text. */
export function parseNpyHeader(buf: Buffer): NpyHeader {
  if (!looksLikeNpy(buf)) throw new NpyError('not a .npy file');
  const prefix = npyPrefixLength(buf);
  if (buf.length < prefix) throw new NpyError('the .npy header is truncated');
  const len = prefix === 10 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (len > NPY_MAX_HEADER) throw new NpyError(`the .npy header is ${len} bytes, over the ${NPY_MAX_HEADER}-byte cap`);
  if (buf.length < prefix + len) throw new NpyError('the .npy header is truncated');
  const text = buf.toString(buf[6] === 3 ? 'utf8' : 'latin1', prefix, prefix + len);
  const m = /['"]descr['"]\s*:\s*((?:'[^']*'|"[^"]*")|\[[^\]]*(?:\][^\]]*)*?\])\s*,\s*['"](?:fortran_order|shape)['"]/.exec(text) ?? /['"]descr['"]\s*:\s*('[^']*'|"[^"]*"|\[.*\])/.exec(text);
  if (!m) throw new NpyError(`the .npy header has no descr: ${JSON.stringify(text.slice(0, 120))}`);
  const descr = m[1]!;
  return { dataOffset: prefix + len, descr, hasObject: /['"][|<>=]?O\d*['"]/.test(descr) };
}
