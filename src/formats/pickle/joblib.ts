import { dictGet, isGlobal, isInst, tupleItems, type Value } from './values.js';

/** joblib's wrapper whose BUILD is followed by the raw array bytes (joblib/numpy_pickle.py). */
export const JOBLIB_WRAPPERS: ReadonlySet<string> = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);

export type ArraySize = { kind: 'bytes'; bytes: number; padded: boolean } | { kind: 'object' } | { kind: 'unknown'; reason: string };

/**
 * How many bytes joblib wrote after a NumpyArrayWrapper, from its state dict
 * (`shape`, `dtype`, `numpy_array_alignment_bytes`): product(shape) × itemsize,
 * after one padding-length byte and that much padding when aligned. An object
 * dtype means an inline pickle follows instead.
 */
export function arrayByteLength(state: Value | null): ArraySize {
  const shape = tupleItems(dictGet(state, 'shape') ?? null);
  if (!shape) return { kind: 'unknown', reason: 'no shape tuple' };
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || d < 0) return { kind: 'unknown', reason: 'a non-integer dimension' };
    count *= d;
  }
  const dtype = dictGet(state, 'dtype');
  const item = dtypeItemSize(dtype);
  if (item === 'object') return { kind: 'object' };
  if (item === undefined) return { kind: 'unknown', reason: 'an unsized dtype' };
  const bytes = count * item;
  if (!Number.isSafeInteger(bytes)) return { kind: 'unknown', reason: 'an impossible size' };
  const align = dictGet(state, 'numpy_array_alignment_bytes');
  return { kind: 'bytes', bytes, padded: typeof align === 'number' };
}

/**
 * Item size of a pickled `numpy.dtype(typestr, align, copy)` with BUILD state
 * `(version, endian, subarray, names, fields, elsize, alignment, flags)`.
 */
export function dtypeItemSize(dtype: Value | undefined): number | 'object' | undefined {
  if (!isInst(dtype) || !isGlobal(dtype.cls) || dtype.cls.name !== 'dtype' || !/^numpy(\._core|\.core)?(\.multiarray)?$/.test(dtype.cls.module)) return undefined;
  const typestr = tupleItems(dtype.args)?.[0];
  if (typeof typestr !== 'string') return undefined;
  if (typestr.startsWith('O')) return 'object';
  const st = tupleItems(dtype.state);
  const fields = st?.[4];
  if (typeof fields === 'object' && fields.k === 'dict') {
    if (!fields.entries) return undefined;
    for (const v of fields.entries) for (const f of tupleItems(v) ?? []) if (dtypeItemSize(f) === 'object') return 'object';
  }
  const elsize = st?.[5];
  if (typeof elsize === 'number' && elsize > 0) return elsize;
  const m = /^[a-zA-Z?](\d+)$/.exec(typestr);
  if (m) return Number(m[1]);
  return typestr === '?' || typestr === 'b' || typestr === 'B' ? 1 : undefined;
}
