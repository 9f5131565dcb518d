/**
 * What `numpy.dtype(spec)` makes of a string spec, decided without numpy.
 * numpy reads object dtypes under many spellings ('O', '|O8', 'object',
 * 'f8,O', '(2,)O', '3O', …), so instead of listing those, a spec counts as
 * free of Python objects only when it matches a grammar of plain numeric,
 * bytes, str, void and datetime types; anything else is treated as object.
 */

const BYTE_ORDER = '[<>|=]?';
const TYPECODE = new RegExp(`^${BYTE_ORDER}[?bBhHiIlLqQpPefdgFDGSUVuac][0-9]*$`);
const DATETIME_UNIT = '(?:\\[[0-9]*(?:[A-Za-z]+|\u03bcs)(?:/[0-9]+)?\\])?';
const DATETIME = new RegExp(`^${BYTE_ORDER}(?:[Mm]8?|datetime64|timedelta64)${DATETIME_UNIT}$`);
const NAMES = new Set([
  'bool', 'bool_', 'bool8', 'int', 'float', 'complex', 'str', 'str_', 'unicode', 'unicode_', 'bytes', 'bytes_', 'string_', 'void',
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'intp', 'uintp', 'int_', 'uint', 'intc', 'uintc',
  'byte', 'ubyte', 'short', 'ushort', 'long', 'ulong', 'longlong', 'ulonglong',
  'float16', 'float32', 'float64', 'float96', 'float128', 'half', 'single', 'double', 'longdouble', 'float_', 'longfloat',
  'complex64', 'complex128', 'complex192', 'complex256', 'csingle', 'cdouble', 'clongdouble', 'complex_', 'cfloat', 'singlecomplex', 'longcomplex', 'clongfloat',
]);

/** True when `numpy.dtype(spec)` either refuses the spec or yields a dtype that holds no Python objects. */
export function isPlainDtypeSpec(spec: string): boolean {
  return TYPECODE.test(spec) || DATETIME.test(spec) || NAMES.has(spec.replace(/^[<>|=]/, ''));
}

export interface TypestrLayout {
  itemSize: number;
  /** String, unicode and void types: numpy takes their size from a pickled state's elsize. */
  flexible: boolean;
}

const FIXED: Record<string, number> = { '?': 1, b: 1, B: 1, h: 2, H: 2, e: 2, f: 4, d: 8, F: 8, D: 16, q: 8, Q: 8 };

/**
 * Item size of a typestr as numpy's dtype pickles spell it (`f8`, `U10`,
 * `V48`, `b1`, `M8`), or a platform-independent single typecode. Undefined
 * for anything else: the caller cannot size it.
 */
export function typestrLayout(typestr: string): TypestrLayout | undefined {
  const t = typestr.replace(/^[<>|=]/, '');
  const fixed = FIXED[t];
  if (fixed !== undefined) return { itemSize: fixed, flexible: false };
  if (t === 'c') return { itemSize: 1, flexible: true };
  const m = /^([biufcSaUV])([0-9]{1,9})$/.exec(t) ?? /^([Mm])(8)(?:\[[^\]]*\])?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[2]);
  const kind = m[1]!;
  if (kind === 'U') return { itemSize: 4 * n, flexible: true };
  return { itemSize: n, flexible: kind === 'S' || kind === 'a' || kind === 'V' };
}
