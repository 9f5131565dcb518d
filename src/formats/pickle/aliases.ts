/**
 * Public re-exports of the callables and modules the deny-list names, mapped
 * to the one dotted path the deny-list is written against (the defining
 * module of the newest release). A pickle may name a callable by any path
 * Python resolves to the same object — `numpy.savetxt`,
 * `numpy.lib.npyio.savetxt` and `numpy.lib._npyio_impl.savetxt` are one
 * function — so classification canonicalises first and the verdict cannot
 * depend on which spelling the file chose.
 *
 * Keys and targets are path prefixes: `numpy.core` → `numpy._core` also maps
 * `numpy.core.memmap.memmap`. Resolution repeats, so chains compose.
 */
import { longestPrefix, prefixTable } from './dotted.js';

const ALIAS_GROUPS: ReadonlyArray<readonly [canonical: string, aliases: readonly string[]]> = [
  // NumPy 2 moved its internals to underscored modules and left shims under the old names.
  ['numpy._core', ['numpy.core']],
  ['numpy.lib._npyio_impl', ['numpy.lib.npyio']],
  ['numpy.lib._format_impl', ['numpy.lib.format']],
  ['numpy.lib._utils_impl', ['numpy.lib.utils']],
  ['numpy.lib._datasource.DataSource', ['numpy.DataSource']],
  ['numpy.ndarray', ['numpy._core.multiarray.ndarray']],
  ['numpy._core.memmap.memmap', ['numpy.memmap']],
  ['numpy._core.multiarray.fromfile', ['numpy.fromfile']],
  ['numpy._core.records.fromfile', ['numpy.rec.fromfile', 'numpy._core.rec.fromfile']],
  ...['save', 'savez', 'savez_compressed', 'savetxt', 'load', 'loadtxt', 'genfromtxt', 'fromregex', 'recfromtxt', 'recfromcsv'].map(
    (f) => [`numpy.lib._npyio_impl.${f}`, [`numpy.${f}`]] as const,
  ),
  ['pickle.loads', ['numpy.loads']],
  // torch re-exports its serializer at the top level.
  ['torch.serialization.save', ['torch.save']],
  ['torch.serialization.load', ['torch.load']],
  ['torch.hub', ['torch.utils.model_zoo']],
  ['torch.jit._serialization.load', ['torch.jit.load']],
  ['torch.jit._serialization.save', ['torch.jit.save']],
  // The io module is _io's public face; open is the same object under three names.
  ['_io.open', ['io.open', 'builtins.open']],
  ['_io.open_code', ['io.open_code']],
  ['_io.FileIO', ['io.FileIO']],
  // pathlib's concrete classes (pathlib._local since Python 3.13) share Path's methods.
  ['pathlib.Path', ['pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib._local.Path', 'pathlib._local.PosixPath', 'pathlib._local.WindowsPath']],
  // os.path is posixpath or ntpath depending on the platform.
  ['posixpath', ['os.path']],
  ['logging.FileHandler', ['logging.handlers.FileHandler']],
  ['operator.attrgetter', ['_operator.attrgetter']],
  ['operator.methodcaller', ['_operator.methodcaller']],
  ['multiprocessing.context.Process', ['multiprocessing.Process', 'multiprocessing.process.Process']],
  // scikit-learn shipped a vendored joblib until 0.23.
  ['joblib', ['sklearn.externals.joblib']],
  ['cloudpickle', ['joblib.externals.cloudpickle']],
  // Python 3.13 renamed the subinterpreter module; 3.14 exposes it publicly.
  ['_interpreters', ['_xxsubinterpreters']],
  ['concurrent.interpreters', ['interpreters']],
  ['keras.src.saving.saving_api.load_model', ['keras.models.load_model', 'keras.saving.load_model', 'tensorflow.keras.models.load_model', 'tf_keras.models.load_model']],
  ['keras.src.layers.core.lambda_layer.Lambda', ['keras.layers.Lambda', 'tensorflow.keras.layers.Lambda', 'tf_keras.layers.Lambda']],
  ['pandas.io.pickle.read_pickle', ['pandas.read_pickle']],
  ['pandas.io.pickle.to_pickle', ['pandas.to_pickle']],
  ['pandas.core.computation.eval.eval', ['pandas.eval']],
  ['sympy.core.sympify.sympify', ['sympy.sympify']],
];

const ALIASES = new Map<string, string>();
for (const [canonical, aliases] of ALIAS_GROUPS) for (const a of aliases) ALIASES.set(a, canonical);

/** Alias groups as data, for tests that check every spelling of a callable gets one verdict. */
export function aliasGroups(): ReadonlyArray<readonly [string, readonly string[]]> {
  return ALIAS_GROUPS;
}

const TABLE = prefixTable(ALIASES);

/** Rewrites the longest aliased prefix of `path` (at a dot boundary) to its target. */
function rewriteOnce(path: string): string {
  const hit = longestPrefix(TABLE, path);
  return hit === undefined ? path : hit.value + path.slice(hit.length);
}

/** The path the deny-list is written against; bounded, since a table entry could in principle loop. */
export function canonicalPath(path: string): string {
  let p = path;
  for (let n = 0; n < 8; n++) {
    const next = rewriteOnce(p);
    if (next === p) return p;
    p = next;
  }
  return p;
}
