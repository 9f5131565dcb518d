import { isPlainDtypeSpec } from './numpy-dtype.js';
import { PyLiteralError, parsePythonLiteral, pyRepr, type PyLiteral } from './python-literal.js';

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
  /** The descr, as Python would print it (shortened). */
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
  // numpy's _check_version accepts exactly (1, 0), (2, 0) and (3, 0).
  if (major < 1 || major > 3 || head[7] !== 0) throw new NpyError(`unknown .npy format version ${major}.${head[7]}`);
  return major === 1 ? 10 : 12;
}

const HEADER_KEYS = ['descr', 'fortran_order', 'shape'];

/** Parses the header from a buffer holding at least the prefix and the header text. */
export function parseNpyHeader(buf: Buffer): NpyHeader {
  if (!looksLikeNpy(buf)) throw new NpyError('not a .npy file');
  const prefix = npyPrefixLength(buf);
  if (buf.length < prefix) throw new NpyError('the .npy header is truncated');
  const major = buf[6]!;
  const len = prefix === 10 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (len > NPY_MAX_HEADER) throw new NpyError(`the .npy header is ${len} bytes, over the ${NPY_MAX_HEADER}-byte cap`);
  if (buf.length < prefix + len) throw new NpyError('the .npy header is truncated');
  const raw = buf.subarray(prefix, prefix + len);
  let text: string;
  try {
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw) : raw.toString('latin1');
  } catch {
    throw new NpyError('the version 3 .npy header is not valid UTF-8');
  }
  const d = headerDict(text, major);
  return { dataOffset: prefix + len, descr: pyRepr(d.descr), hasObject: descrMayHoldObjects(d.descr, 0) };
}

/** The header dict, checked as numpy's _read_array_header checks it. */
function headerDict(text: string, major: number): { descr: PyLiteral } {
  let d: PyLiteral;
  try {
    // Versions 1 and 2 may come from Python 2, whose longs numpy's _filter_header strips of their `L`.
    d = parsePythonLiteral(text, { filterHeader: major <= 2 });
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    throw new NpyError(`its header is not a Python literal numpy can read (${e.message}): ${JSON.stringify(text.slice(0, 120))}`);
  }
  if (d.k !== 'dict') throw new NpyError(`its header is ${pyRepr(d, 80)}, not a dict`);
  const keys = d.keys.map((k) => (k.k === 'str' ? k.v : pyRepr(k, 40)));
  if (keys.length !== HEADER_KEYS.length || !HEADER_KEYS.every((k) => keys.includes(k))) {
    throw new NpyError(`its header has the keys ${JSON.stringify(keys.sort())}; numpy requires exactly descr, fortran_order and shape`);
  }
  const get = (key: string): PyLiteral => d.values[keys.indexOf(key)]!;
  const shape = get('shape');
  if (shape.k !== 'tuple' || !shape.items.every((x) => x.k === 'int' || x.k === 'bool')) throw new NpyError(`its shape ${pyRepr(shape, 60)} is not a tuple of ints`);
  if (get('fortran_order').k !== 'bool') throw new NpyError(`its fortran_order ${pyRepr(get('fortran_order'), 60)} is not True or False`);
  return { descr: get('descr') };
}

/**
 * Whether numpy's descr_to_dtype could build a dtype holding Python objects
 * from this descr: a str spec, a `(spec, shape)` tuple, or fields given as
 * `(name, spec[, shape])`. Anything a spec could hide in (a string numpy may
 * read as a dtype, a dict or set it would iterate) counts unless proven plain.
 */
export function descrMayHoldObjects(descr: PyLiteral, depth: number): boolean {
  if (depth > 32) return true;
  switch (descr.k) {
    case 'str':
      return !isPlainDtypeSpec(descr.v);
    case 'bytes':
      // numpy.dtype() accepts bytes specs too (as latin1 text).
      return !isPlainDtypeSpec(Buffer.from(descr.v).toString('latin1'));
    case 'tuple':
      // (base, shape): numpy.dtype((base, x)) also reads a non-shape x as a dtype.
      return descr.items.some((x) => descrMayHoldObjects(x, depth + 1));
    case 'list':
      return descr.items.some((field) => fieldMayHoldObjects(field, depth + 1));
    case 'dict':
    case 'set':
      // Iterated as a list of fields; no writer produces it.
      return true;
    default:
      return false;
  }
}

function fieldMayHoldObjects(field: PyLiteral, depth: number): boolean {
  if (field.k === 'tuple' || field.k === 'list') {
    // The first item is the name (or a (title, name) pair): never read as a dtype.
    return field.items.slice(1).some((x) => descrMayHoldObjects(x, depth + 1));
  }
  // A str is unpacked character by character into (name, spec[, shape]).
  if (field.k === 'str' || field.k === 'bytes') return true;
  return false;
}
