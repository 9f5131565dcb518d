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

/**
 * Modules and callables that are dangerous themselves and through every
 * attribute and submodule (`os` covers `os.path.join`: nothing in a model
 * needs it, and `os.path` leads back to `os`).
 */
const DENY_PREFIXES: Record<string, string> = {};
function deny(reason: string, ...paths: string[]): void {
  for (const p of paths) DENY_PREFIXES[p] = reason;
}
deny('runs commands or touches files through the operating system', 'os', 'posix', 'nt', 'posixpath', 'ntpath', 'genericpath', '_winapi', 'msvcrt', 'winreg', '_winreg', 'pty', 'tty', 'pipes', 'fcntl', 'mmap', 'platform', 'shutil', 'tempfile', 'fileinput', 'io.open', 'io.FileIO', '_io', 'io.open_code', 'codecs.open', 'pathlib.Path.write_text', 'pathlib.Path.write_bytes', 'pathlib.Path.unlink', 'pathlib.Path.open', 'zipfile', 'tarfile', 'bz2.open', 'gzip.open', 'lzma.open', 'dbm', 'shelve', 'sqlite3', 'logging.config', 'logging.handlers');
deny('starts processes', 'subprocess', '_posixsubprocess', 'commands', 'popen2', 'multiprocessing', '_multiprocessing', 'concurrent', 'asyncio', 'threading', '_thread', 'thread', 'sched', 'atexit', '_osx_support', '_aix_support', 'uuid._get_command_stdout', 'ctypes', '_ctypes', 'cffi', 'weakref.finalize');
deny('evaluates code, imports modules or reaches arbitrary attributes', 'builtins.eval', 'builtins.exec', 'builtins.execfile', 'builtins.compile', 'builtins.open', 'builtins.getattr', 'builtins.setattr', 'builtins.delattr', 'builtins.__import__', 'builtins.globals', 'builtins.locals', 'builtins.vars', 'builtins.breakpoint', 'builtins.input', 'builtins.raw_input', 'builtins.help', 'builtins.exit', 'builtins.quit', 'builtins.reload', 'builtins.apply', 'builtins.file', 'runpy', 'importlib', 'imp', 'zipimport', 'pkgutil', 'pkg_resources', 'site', 'sys', 'code', 'codeop', 'types', 'inspect', 'gc', 'operator.attrgetter', 'operator.methodcaller', '_operator.attrgetter', '_operator.methodcaller', 'timeit', 'cProfile', 'profile', 'pdb', 'bdb', 'trace', 'doctest', 'idlelib', 'lib2to3', 'pydoc', 'numpy.testing', 'numpy.f2py', 'numpy.distutils', 'numpy.ctypeslib', 'torch.utils.cpp_extension', 'torch._inductor', 'torch._dynamo', 'torch.package', 'torch.fx', 'torch.ops', 'torch._ops', 'torch.classes');
deny('deserializes or loads further data that can run code', 'pickle', '_pickle', 'cPickle', 'pickletools', 'marshal', 'dill', 'cloudpickle', 'joblib.load', 'joblib.numpy_pickle.load', 'joblib.numpy_pickle_compat', 'jsonpickle', 'yaml', 'numpy.load', 'numpy.loads', 'numpy.lib.npyio', 'numpy.core.multiarray.loads', 'numpy.fromfile', 'numpy.ma.core.loads', 'pandas.read_pickle', 'pandas.io.pickle', 'torch.load', 'torch.serialization', 'torch.storage._load_from_bytes', 'torch.hub', 'torch.jit', 'torch.distributed', 'torch.multiprocessing', 'keras.models.load_model', 'keras.saving', 'tensorflow.keras.models.load_model', 'copyreg.add_extension');
deny('installs packages or builds code', 'pip', 'ensurepip', 'setuptools', 'distutils', 'venv', 'sysconfig');
deny('opens network connections', 'socket', '_socket', 'ssl', 'socketserver', 'http', 'urllib', 'urllib2', 'urllib3', 'httplib', 'requests', 'httpx', 'aiohttp', 'ftplib', 'smtplib', 'telnetlib', 'poplib', 'imaplib', 'nntplib', 'xmlrpc', 'xmlrpclib', 'webbrowser', 'SimpleHTTPServer', 'BaseHTTPServer', 'CGIHTTPServer', 'SocketServer');

/** Names that do something dangerous whatever module they are reached through. */
const DANGEROUS_LEAF = new Set(['system', 'popen', 'exec', 'eval', 'execfile', 'spawn', 'fork', 'forkpty', 'fork_exec', 'Popen', 'getoutput', 'getstatusoutput', 'check_output', 'check_call', 'load', 'loads', '_load', '_loads', 'load_inline', 'load_model', 'unsafe_load', 'full_load', 'extractall', 'urlopen', 'urlretrieve', 'run_path', 'run_module', 'import_module', 'runsource', 'runcode', 'runctx', 'pipepager', 'tempfilepager', 'write_text', 'write_bytes', 'rmtree', 'unlink', 'remove', 'rmdir', 'chmod', 'chown', 'symlink']);
const DANGEROUS_LEAF_PREFIX = /^(spawn|exec[lv]|popen|system)/;

/** Modules that are dangerous even when reached as an attribute (`torch.serialization.os.system`). */
const DANGEROUS_INNER = new Set(['os', 'posix', 'nt', 'subprocess', 'builtins', '__builtin__', 'sys', 'pickle', '_pickle', 'marshal', 'importlib', 'runpy', 'ctypes', 'socket', 'shutil', 'pty', 'dill', 'cloudpickle']);

/** Python 2 module names that Python 3's unpickler maps (Lib/_compat_pickle.py, IMPORT_MAPPING), where it matters here. */
const PY2_MODULES: Record<string, string> = {
  __builtin__: 'builtins',
  exceptions: 'builtins',
  copy_reg: 'copyreg',
  cPickle: 'pickle',
  commands: 'subprocess',
  urllib2: 'urllib.request',
  urlparse: 'urllib.parse',
  httplib: 'http.client',
  cookielib: 'http.cookiejar',
  BaseHTTPServer: 'http.server',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  SocketServer: 'socketserver',
  xmlrpclib: 'xmlrpc.client',
  cStringIO: 'io',
  StringIO: 'io',
  thread: '_thread',
  Queue: 'queue',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
};
const PY2_NAMES: Record<string, string> = {
  '__builtin__.xrange': 'builtins.range',
  '__builtin__.unicode': 'builtins.str',
  '__builtin__.basestring': 'builtins.str',
  '__builtin__.long': 'builtins.int',
  '__builtin__.unichr': 'builtins.chr',
  '__builtin__.reduce': 'functools.reduce',
  '__builtin__.intern': 'sys.intern',
  '__builtin__.raw_input': 'builtins.input',
  '__builtin__.execfile': 'builtins.execfile',
};

function underPrefix(path: string, table: Record<string, string>): string | undefined {
  let i = path.length;
  for (;;) {
    const head = path.slice(0, i);
    const hit = table[head];
    if (hit !== undefined) return hit;
    i = path.lastIndexOf('.', i - 1);
    if (i <= 0) return undefined;
  }
}

function dangerReason(qualified: string): string | undefined {
  const direct = underPrefix(qualified, DENY_PREFIXES);
  if (direct) return direct;
  const segs = qualified.split('.');
  const leaf = segs[segs.length - 1]!;
  if (DANGEROUS_LEAF.has(leaf) || DANGEROUS_LEAF_PREFIX.test(leaf)) return `calls ${leaf}, which runs code, deserializes or touches files`;
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.startsWith('__') && s.endsWith('__') && s.length > 4) return `walks the attribute ${s}, a route to arbitrary objects`;
    if (DANGEROUS_INNER.has(s)) {
      const rest = segs.slice(i).join('.');
      return underPrefix(rest, DENY_PREFIXES) ?? `reaches the module ${s} through an attribute`;
    }
  }
  return undefined;
}

/** The paths a GLOBAL may resolve to: as written, and after Python 3's mapping of Python 2 names. */
export function resolvedPaths(module: string, name: string): string[] {
  const raw = `${module}.${name}`;
  const mappedName = PY2_NAMES[raw];
  const mappedModule = PY2_MODULES[module];
  const out = [raw];
  if (mappedName) out.push(mappedName);
  else if (mappedModule) out.push(`${mappedModule}.${name}`);
  return out;
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

export function classifyGlobal(module: string, name: string, allow: AllowList = { exact: new Set(), prefixes: [] }): Classification {
  const paths = resolvedPaths(module, name);
  const effective = paths[paths.length - 1]!;
  if (SAFE_EXACT.has(effective) || NUMPY_DTYPE_CLASS.test(effective)) return { verdict: 'safe', qualified: effective };
  for (const p of paths) {
    const reason = dangerReason(p);
    if (reason) return { verdict: 'dangerous', qualified: p, reason };
  }
  if (allow.exact.has(effective) || allow.prefixes.some((p) => effective.startsWith(p))) return { verdict: 'safe', qualified: effective };
  return { verdict: 'unknown', qualified: effective };
}

/** A module and name that Python could actually import (garbage bytes rarely look like this). */
export function isPlausibleGlobal(module: string, name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module) && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name) && module.length + name.length <= 512;
}
