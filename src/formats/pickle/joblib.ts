import { isPlainDtypeSpec, typestrLayout } from '../numpy-dtype.js';
import { OPAQUE, isGlobal, isInst, tupleItems, type Obj, type Value } from './values.js';

/** joblib's wrapper whose BUILD is followed by the raw array bytes (joblib/numpy_pickle.py). */
export const JOBLIB_WRAPPERS: ReadonlySet<string> = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);

/**
 * Imports after which the scanner keeps container contents: joblib's wrapper,
 * and numpy.dtype, because joblib memoises a dtype first built for a numpy
 * scalar (an estimator's `intercept_`) and refers back to it from a later
 * array wrapper.
 */
export const RETAIN_FROM: ReadonlySet<string> = new Set([...JOBLIB_WRAPPERS, ...['numpy', 'numpy.core', 'numpy._core', 'numpy.core.multiarray', 'numpy._core.multiarray'].map((m) => `${m}.dtype`)]);

/**
 * Whether a call result is a NumpyArrayWrapper: the class called directly
 * (NEWOBJ, OBJ, INST) or handed first to a factory that instantiates it
 * (copyreg._reconstructor and __newobj__, object.__new__, …).
 */
export function isJoblibWrapper(inst: Extract<Obj, { k: 'inst' }>): boolean {
  return isWrapperClass(inst.cls) || isWrapperClass(tupleItems(inst.args)?.[0]);
}

function isWrapperClass(v: Value | undefined): boolean {
  return isGlobal(v) && JOBLIB_WRAPPERS.has(`${v.module}.${v.name}`);
}

/**
 * The wrapper's state after one more BUILD. The wrapper has no __setstate__,
 * so BUILD updates its __dict__: a wrapper fetched from the memo and built
 * again keeps the keys of the first state that the second does not repeat
 * (and joblib reads another array after it). Anything but two kept dicts
 * cannot be merged, and is left for arrayByteLength to refuse.
 */
export function wrapperStateAfterBuild(previous: Value | null, state: Value): Value {
  if (previous === null) return state;
  const a = typeof previous === 'object' && previous.k === 'dict' ? previous.entries : null;
  const b = typeof state === 'object' && state.k === 'dict' ? state.entries : null;
  return a && b ? { k: 'dict', entries: [...a, ...b] } : OPAQUE;
}

export type ArraySize = { kind: 'bytes'; bytes: number; padded: boolean } | { kind: 'object' } | { kind: 'unknown'; reason: string };

/** A wrapper's state has about six keys; a dict this big is not one joblib wrote (and the scanner keeps only so many). */
const MAX_STATE_KEYS = 32;
/** Structured dtypes inside structured dtypes. */
const MAX_DTYPE_DEPTH = 16;

/**
 * How many bytes joblib reads after a NumpyArrayWrapper, from its state dict
 * (`shape`, `dtype`, `numpy_array_alignment_bytes`): product(shape) × itemsize,
 * after one padding-length byte and that much padding when the alignment key
 * is set. When `dtype.hasobject`, joblib `pickle.load`s an inline pickle
 * instead (read_array), so any doubt about the dtype is resolved that way or
 * reported: skipping bytes joblib unpickles would hide them from the scan.
 */
export function arrayByteLength(state: Value | null): ArraySize {
  const dict = stateDict(state);
  if (typeof dict === 'string') return { kind: 'unknown', reason: dict };
  const shape = tupleItems(dict.get('shape'));
  if (!shape) return { kind: 'unknown', reason: 'no shape tuple' };
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || d < 0) return { kind: 'unknown', reason: 'a non-integer dimension' };
    count *= d;
  }
  const dtype = dtypeInfo(dict.get('dtype'), 0);
  if (dtype.kind === 'object') return { kind: 'object' };
  if (dtype.kind === 'unknown') return { kind: 'unknown', reason: dtype.reason };
  if (dtype.itemSize === undefined) return { kind: 'unknown', reason: 'a dtype of unknown item size' };
  const bytes = count * dtype.itemSize;
  if (!Number.isSafeInteger(bytes)) return { kind: 'unknown', reason: 'an impossible size' };
  // joblib pads whenever the attribute is not None (safe_get_numpy_array_alignment_bytes).
  const align = dict.get('numpy_array_alignment_bytes');
  return { kind: 'bytes', bytes, padded: align !== undefined && !(typeof align === 'object' && align.k === 'none') };
}

/** The state dict as Python builds it (a later duplicate key wins), or why it cannot be known. */
function stateDict(state: Value | null): Map<string, Value> | string {
  if (typeof state !== 'object' || state === null || state.k !== 'dict') return 'a state that is not a plain dict';
  if (!state.entries) return 'a state dict mlgate did not keep';
  if (state.entries.length > MAX_STATE_KEYS * 2) return `a state dict of over ${MAX_STATE_KEYS} keys`;
  const map = new Map<string, Value>();
  for (let i = 0; i + 1 < state.entries.length; i += 2) {
    const key = state.entries[i]!;
    if (typeof key !== 'string') return 'a state key that is not a short str';
    map.set(key, state.entries[i + 1]!);
  }
  return map;
}

type DtypeInfo =
  | { kind: 'object' }
  /** `flags` is numpy's dtype flags after unpickling (0 for plain types). */
  | { kind: 'plain'; itemSize?: number; flags: number }
  | { kind: 'unknown'; reason: string };

const OBJECT: DtypeInfo = { kind: 'object' };
const unknown = (reason: string): DtypeInfo => ({ kind: 'unknown', reason });

/**
 * A pickled `numpy.dtype(typestr, align, copy)` and its BUILD state, read as
 * numpy's arraydescr_setstate reads it. State layouts by length: 9
 * `(version, endian, subarray, names, fields, elsize, alignment, flags, metadata)`,
 * 8 without metadata, 7 without flags, 6 `(version, endian, subarray, fields,
 * elsize, alignment)`, 5 the same without version (version 0). From version 3
 * on, `hasobject` is bit 0 of the stored flags; before, numpy recomputes it
 * from the type, any nonzero flags, and the fields. Whatever of that says
 * "object" makes it object here, even where numpy would ignore it.
 */
function dtypeInfo(dtype: Value | undefined, depth: number): DtypeInfo {
  if (depth > MAX_DTYPE_DEPTH) return unknown('dtypes nested too deep');
  if (!isInst(dtype) || !isGlobal(dtype.cls) || dtype.cls.name !== 'dtype' || !/^numpy(\._core|\.core)?(\.multiarray)?$/.test(dtype.cls.module)) return unknown('a dtype that is not a numpy.dtype mlgate can read');
  const typestr = tupleItems(dtype.args)?.[0];
  if (typeof typestr !== 'string') return unknown('a dtype built from something other than a type string');
  if (!isPlainDtypeSpec(typestr)) return OBJECT;
  const layout = typestrLayout(typestr);
  if (dtype.state === null) return { kind: 'plain', itemSize: layout?.itemSize, flags: 0 };
  const st = tupleItems(dtype.state);
  if (!st) return unknown('a dtype state that is not a tuple mlgate kept');
  let version: Value, subarray: Value, fields: Value, elsize: Value;
  let flags: Value = 0;
  if (st.length === 8 || st.length === 9) [version, , subarray, , fields, elsize, , flags] = st as [Value, Value, Value, Value, Value, Value, Value, Value];
  else if (st.length === 7) [version, , subarray, , fields, elsize] = st as [Value, Value, Value, Value, Value, Value];
  else if (st.length === 6) [version, , subarray, fields, elsize] = st as [Value, Value, Value, Value, Value];
  else if (st.length === 5) [version, subarray, fields, elsize] = [0, st[1]!, st[2]!, st[3]!];
  else return unknown(`a dtype state of ${st.length} items`);
  if (typeof version !== 'number' || typeof flags !== 'number' || typeof elsize !== 'number') return unknown('a dtype state whose version, size or flags is not an int');
  // Bit 0 is NPY_ITEM_HASOBJECT (numpy also folds signed-char flags from old pickles; bit 0 survives that).
  if (Math.abs(flags) % 2 === 1) return OBJECT;
  if (version < 3 && flags !== 0) return OBJECT;

  if (!isNone(subarray)) {
    const sub = tupleItems(subarray);
    if (!sub || sub.length !== 2) return unknown('a sub-array that is not a (dtype, shape) pair');
    const base = dtypeInfo(sub[0], depth + 1);
    if (base.kind !== 'plain') return base;
  }
  if (!isNone(fields)) {
    const found = fieldsInfo(fields, version, depth);
    if (found) return found;
  }
  let itemSize = layout?.itemSize;
  // numpy keeps the pickled elsize only for bytes, str and void types.
  if (layout?.flexible) itemSize = elsize >= 0 ? elsize : undefined;
  return { kind: 'plain', itemSize, flags: version < 3 ? 0 : flags };
}

/** The fields dict `{name: (dtype, offset[, title])}`: object if a field is (or, before version 3, has any flags). */
function fieldsInfo(fields: Value, version: number, depth: number): DtypeInfo | undefined {
  const entries = typeof fields === 'object' && fields.k === 'dict' ? fields.entries : null;
  // The scanner keeps up to 64 pairs; a fuller dict may have lost fields.
  const complete = entries !== null && entries.length < 128;
  // From version 3 the stored flags already decide; the fields are only a second opinion.
  if (!complete && version < 3) return unknown('a structured dtype whose fields mlgate did not keep');
  for (let i = 1; entries && i < entries.length; i += 2) {
    if (entries[i - 1] === -1) continue; // versions 0 and 1 keep the names tuple under the key -1
    const spec = tupleItems(entries[i]);
    if (!spec) {
      if (version < 3) return unknown('a structured dtype field mlgate did not keep');
      continue;
    }
    const f = dtypeInfo(spec[0], depth + 1);
    if (f.kind === 'object') return f;
    if (f.kind === 'unknown') {
      if (version < 3) return f;
      continue;
    }
    if (version < 3 && f.flags !== 0) return OBJECT;
  }
  return undefined;
}

function isNone(v: Value): boolean {
  return typeof v === 'object' && v.k === 'none';
}
