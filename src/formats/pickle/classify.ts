/**
 * Default-deny classification of the globals a pickle imports.
 *
 * `safe`: on the built-in allow-list (tensor and array reconstruction, plain
 * containers). `dangerous`: a module or callable that can run code, touch
 * files, processes or the network, import or deserialize further, or reach
 * arbitrary attributes — or any submodule or attribute of one. Everything else
 * is `unknown`: importing it runs that module's code and calls an arbitrary
 * callable, so it is never silently accepted.
 */
import { aliasGroups, canonicalPath } from './aliases.js';
import { python2Rename, resolveGlobal } from './compat-pickle.js';
import { DANGEROUS_INNER, DANGEROUS_LEAF, DANGEROUS_LEAF_PREFIX, SEGMENT_RULES, deniedPrefix, denyEntries } from './deny-list.js';

export type Verdict = 'safe' | 'dangerous' | 'unknown';

export interface Classification {
  verdict: Verdict;
  /** Dotted path as the unpickler resolves it (after Python 2 name mapping). */
  qualified: string;
  /** Why it is dangerous, for the message. */
  reason?: string;
}

const SAFE_EXACT = new Set([
  // PyTorch: what torch.load(weights_only=True) reconstructs tensors and modules' state with.
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_nested_tensor',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor',
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  'torch.storage.UntypedStorage',
  'torch.storage.TypedStorage',
  'torch.UntypedStorage',
  'torch.TypedStorage',
  // NumPy array and scalar reconstruction (numpy 1.x and 2.x module names).
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.ndarray',
  'numpy.dtype',
  'numpy.core.multiarray.dtype',
  'numpy._core.multiarray.dtype',
  // joblib's array wrapper: the scanner sizes and skips the array bytes after it.
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
  // Standard containers and value types.
  'collections.OrderedDict',
  'collections.defaultdict',
  'collections.deque',
  'collections.Counter',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.slice',
  'builtins.complex',
  'builtins.range',
  'builtins.int',
  'builtins.float',
  'builtins.bool',
  'builtins.str',
  'builtins.tuple',
  'builtins.list',
  'builtins.dict',
  'builtins.object',
  // How protocol 2 writes bytes for Python 2 readers, and how protocols 0–1 rebuild objects.
  '_codecs.encode',
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'fractions.Fraction',
  'uuid.UUID',
]);

const TORCH_DTYPES = [
  'float16', 'float32', 'float64', 'bfloat16', 'half', 'float', 'double', 'complex32', 'complex64', 'complex128', 'cfloat', 'cdouble',
  'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'short', 'int', 'long', 'bool',
  'qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4', 'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz',
  'strided', 'sparse_coo', 'sparse_csr', 'sparse_csc', 'sparse_bsr', 'sparse_bsc', '_mkldnn',
  'contiguous_format', 'channels_last', 'channels_last_3d', 'preserve_format',
  'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric', 'per_channel_affine_float_qparams',
];
const TORCH_STORAGES = ['Double', 'Float', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'ComplexDouble', 'ComplexFloat', 'QUInt8', 'QInt8', 'QInt32', 'QUInt4x2', 'QUInt2x4'];
for (const d of TORCH_DTYPES) SAFE_EXACT.add(`torch.${d}`);
for (const s of TORCH_STORAGES) {
  SAFE_EXACT.add(`torch.${s}Storage`);
  SAFE_EXACT.add(`torch.cuda.${s}Storage`);
}
const NUMPY_DTYPE_CLASS = /^numpy\.dtypes\.[A-Za-z0-9]+DType$/;

/** More segments than any alias chain and deny entry together span: lookups on a longer head answer the same. */
const LOOKUP_SEGMENTS = 32;

/** First segments of every deny and alias entry: where an attribute chain can start to match. */
const TABLE_ROOTS = new Set([...denyEntries().keys(), ...aliasGroups().flatMap(([, aliases]) => aliases)].map((p) => p.split('.')[0]!));

/** No real module and qualified name comes near this; a longer path is refused before any lookup. */
const MAX_SEGMENTS = 64;

function countSegments(path: string): number {
  let n = 1;
  for (let i = path.indexOf('.'); i >= 0 && n <= MAX_SEGMENTS; i = path.indexOf('.', i + 1)) n++;
  return n;
}

const EMPTY_ALLOW: AllowList = { exact: new Set(), prefixes: [] };

function isSafe(path: string): boolean {
  return SAFE_EXACT.has(path) || NUMPY_DTYPE_CLASS.test(path);
}

function underRoot(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}.`);
}

/**
 * Why a dotted path is dangerous by its shape: its leaf, a dunder or
 * dangerous module on the way, a library's dangerous family. Modules are only
 * looked for from segment `attrsFrom` on, the attributes: a module path names
 * a real submodule (`numpy.random._pickle` is numpy's, not the stdlib's).
 */
function structuralReason(path: string, attrsFrom: number): string | undefined {
  const segs = path.split('.');
  const leaf = segs[segs.length - 1]!;
  const leafReason = DANGEROUS_LEAF.get(leaf);
  if (leafReason !== undefined) return `calls ${leaf}, a function that ${leafReason}`;
  if (DANGEROUS_LEAF_PREFIX.test(leaf)) return `calls ${leaf}, a function that runs a command or code`;
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.startsWith('__') && s.endsWith('__') && s.length > 4) return `walks the attribute ${s}, a route to arbitrary objects`;
    if (i >= attrsFrom && DANGEROUS_INNER.has(s)) {
      const inner = deniedPrefix(canonicalPath(segs.slice(i, i + LOOKUP_SEGMENTS).join('.').replace(/^_+(?=[a-z])/, '')));
      return `reaches the module ${s} through an attribute${inner ? ` (a module that ${inner})` : ''}`;
    }
  }
  for (const rule of SEGMENT_RULES) {
    if (!underRoot(path, rule.under)) continue;
    const hit = segs.slice(1).find((s) => rule.segment.test(s));
    if (hit !== undefined) return `uses ${rule.under}'s ${hit} (it ${rule.reason})`;
  }
  return undefined;
}

/**
 * A dotted name (protocol 4 resolves `a.b.c` attribute by attribute) can
 * reach a module its first module imported: `pathlib` + `os.system`,
 * `collections` + `_sys.modules`. A plain name is the module's own global.
 */
function attributeReach(name: string): string | undefined {
  const segs = name.split('.');
  if (segs.length < 2) return undefined;
  for (let j = 0; j < segs.length; j++) {
    const bare = segs[j]!.replace(/^_+(?=[a-z])/, '');
    if (!TABLE_ROOTS.has(segs[j]!) && !TABLE_ROOTS.has(bare)) continue;
    // Only a head can match the tables; taking all the rest would make a long name quadratic.
    const rest = segs.slice(j, j + LOOKUP_SEGMENTS).join('.');
    for (const candidate of new Set([rest, rest.replace(/^_+(?=[a-z])/, '')])) {
      const r = deniedPrefix(canonicalPath(candidate));
      if (r !== undefined) return `reaches ${candidate} through an attribute (a module or function that ${r})`;
    }
  }
  return undefined;
}

/** Why `module.name` is dangerous, and the canonical path when the verdict came through an alias. */
function dangerReason(module: string, name: string): { why: string; via?: string } | undefined {
  const written = `${module}.${name}`;
  const canonical = canonicalPath(written);
  const direct = deniedPrefix(canonical) ?? deniedPrefix(written);
  if (direct !== undefined) return canonical === written ? { why: direct } : { why: direct, via: canonical };
  const shape = structuralReason(written, module.split('.').length) ?? attributeReach(name);
  if (shape !== undefined) return { why: shape };
  const aliased = canonical === written ? undefined : structuralReason(canonical, Infinity);
  return aliased === undefined ? undefined : { why: aliased, via: canonical };
}

/** Compiled `allow-globals` entries: exact `module.name`, or `prefix.*` for everything under a module. */
export interface AllowList {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

export function compileAllowList(entries: readonly string[]): AllowList {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const e of entries) {
    if (e.endsWith('.*')) prefixes.push(e.slice(0, -1));
    else exact.add(e);
  }
  return { exact, prefixes };
}

/**
 * `proto` is the protocol in effect where the pickle names the global (that of
 * the last PROTO opcode, 0 before any): it decides whether Python 3 renames
 * Python 2 names. Safety is judged on the name Python 3 imports; danger on
 * every name a loader might import — that one, the name as written (Python 2,
 * or `fix_imports=False`) and its Python 2 rename — so a renaming the gate
 * gets wrong can only cost a false alarm, never a miss.
 */
export function classifyGlobal(module: string, name: string, allow: AllowList = EMPTY_ALLOW, proto = 0): Classification {
  if (countSegments(module) + countSegments(name) > MAX_SEGMENTS) {
    return { verdict: 'dangerous', qualified: `${module.slice(0, 64)}….${name.slice(-64)}`, reason: `is a dotted path of more than ${MAX_SEGMENTS} parts, far beyond any real module or class, which mlgate refuses to resolve (it fails closed)` };
  }
  const loaded = resolveGlobal(module, name, proto);
  const qualified = `${loaded.module}.${loaded.name}`;
  const canonical = canonicalPath(qualified);
  if (isSafe(qualified) || isSafe(canonical)) return { verdict: 'safe', qualified };
  const renamed = python2Rename(module, name);
  const seen = new Set<string>();
  for (const g of [loaded, { module, name }, renamed]) {
    const path = `${g.module}.${g.name}`;
    if (seen.has(path)) continue;
    seen.add(path);
    const d = dangerReason(g.module, g.name);
    if (d === undefined) continue;
    // Say which name the verdict is about when it is not the one the file wrote.
    const loadedAs = path === `${module}.${name}` ? [] : [`loaded as ${path}`];
    const notes = [...loadedAs, ...(d.via === undefined ? [] : [`${loadedAs.length ? 'which is' : 'the same as'} ${d.via}`])];
    return { verdict: 'dangerous', qualified: path, reason: notes.length ? `${d.why} (${notes.join(', ')})` : d.why };
  }
  const allowed = (p: string): boolean => allow.exact.has(p) || allow.prefixes.some((x) => p.startsWith(x));
  if (allowed(qualified) || allowed(canonical)) return { verdict: 'safe', qualified };
  return { verdict: 'unknown', qualified };
}

/** A module and name that Python could actually import (garbage bytes rarely look like this). */
export function isPlausibleGlobal(module: string, name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module) && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name) && module.length + name.length <= 512;
}
