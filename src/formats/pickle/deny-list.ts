/**
 * What a pickle must never import. Every entry is a dotted path prefix,
 * written against the canonical spelling (see aliases.ts): it denies the
 * module or callable itself and everything reached below it, submodules and
 * attributes alike (`torch.utils._config_module` covers
 * `torch.utils._config_module.ConfigModule.load_config`).
 *
 * The test for a group is what calling the global with attacker-chosen
 * arguments can do: run code or commands, start interpreters or processes,
 * write, delete or map files, import modules by name, load further pickles,
 * or talk to the network. Nothing a model's weights need is in here.
 */
import { longestPrefix, prefixTable } from './dotted.js';

const GROUPS: ReadonlyArray<readonly [reason: string, paths: readonly string[]]> = [
  [
    'runs commands or touches files through the operating system',
    ['os', 'posix', 'nt', 'posixpath', 'ntpath', 'genericpath', '_winapi', 'msvcrt', 'winreg', '_winreg', 'pty', 'tty', 'pipes', 'fcntl', 'mmap', 'platform', 'shutil', 'fileinput', 'mailcap', 'uuid', '_osx_support', '_aix_support'],
  ],
  [
    // Whole modules whose purpose is to read or write files: nothing in a model needs them.
    'writes, deletes or opens files',
    [
      '_io.open', '_io.open_code', '_io.FileIO', '_pyio', 'codecs.open', 'tempfile', 'zipfile', 'tarfile', 'gzip', 'bz2', 'lzma', 'dbm', '_dbm', '_gdbm', 'shelve', 'sqlite3', '_sqlite3',
      'logging.config', 'logging.handlers', 'logging.FileHandler', 'logging.basicConfig', 'compileall', 'py_compile', 'readline', 'cgitb',
      ...['write_text', 'write_bytes', 'unlink', 'open', 'touch', 'mkdir', 'rename', 'replace', 'symlink_to', 'hardlink_to', 'link_to', 'chmod', 'lchmod', 'rmdir', 'copy', 'copy_into', 'move', 'move_into', 'read_text', 'read_bytes'].map((m) => `pathlib.Path.${m}`),
      'numpy.lib._npyio_impl', 'numpy.lib._format_impl', 'numpy.lib._datasource', 'numpy._core.memmap', 'numpy._core.multiarray.fromfile', 'numpy._core.records.fromfile', 'numpy.ndarray.tofile', 'numpy.ndarray.dump',
      'scipy.io', 'torch.serialization.save', 'torch.from_file', 'torch.onnx', 'torch.utils.tensorboard', 'torch.utils.hipify', 'torch.utils.data.datapipes', 'pandas.io',
    ],
  ],
  [
    'starts processes, threads or interpreters',
    [
      'subprocess', '_posixsubprocess', 'commands', 'popen2', 'multiprocessing', '_multiprocessing', 'concurrent', 'asyncio', 'threading', '_thread', 'thread', 'sched', 'atexit', 'signal', '_signal', 'faulthandler',
      '_interpreters', '_interpchannels', '_interpqueues', '_xxinterpchannels', '_xxinterpqueues', 'ctypes', '_ctypes', 'cffi', '_cffi_backend', 'weakref.finalize',
      'pexpect', 'ptyprocess', 'sh', 'plumbum', 'invoke', 'fabric', 'paramiko', 'psutil', 'joblib.parallel', 'joblib.Parallel', 'joblib._parallel_backends', 'joblib.pool', 'joblib.externals',
      'torch.utils.collect_env', 'torch.utils.bottleneck', 'torch.testing._internal', 'test.support', 'test.libregrtest', 'test.regrtest', 'test.test_support',
    ],
  ],
  [
    'evaluates code, imports modules or reaches arbitrary attributes',
    [
      'builtins.eval', 'builtins.exec', 'builtins.execfile', 'builtins.compile', 'builtins.getattr', 'builtins.setattr', 'builtins.delattr', 'builtins.__import__', 'builtins.globals', 'builtins.locals', 'builtins.vars',
      'builtins.breakpoint', 'builtins.input', 'builtins.raw_input', 'builtins.help', 'builtins.exit', 'builtins.quit', 'builtins.reload', 'builtins.apply', 'builtins.file', 'builtins.license', 'builtins.credits', 'builtins.copyright',
      '_sitebuiltins', 'runpy', 'importlib', '_imp', '_frozen_importlib', '_frozen_importlib_external', 'imp', 'zipimport', 'pkgutil', 'pkg_resources', 'site', 'sitecustomize', 'usercustomize', 'sys', 'code', 'codeop', 'types', 'inspect', 'gc',
      'operator.attrgetter', 'operator.methodcaller', 'timeit', 'cProfile', 'profile', 'pdb', 'bdb', 'trace', 'doctest', 'unittest', 'idlelib', 'lib2to3', 'pydoc', '_pyrepl', 'rlcompleter', 'tkinter', '_tkinter',
      'IPython', 'pytest', '_pytest', 'numexpr', 'sympy.core.sympify', 'sympy.parsing', 'pandas.core.computation',
      'numpy.testing', 'numpy.f2py', 'numpy.distutils', 'numpy.ctypeslib', 'numpy.lib._utils_impl',
      'torch.compile', 'torch.compiler', 'torch.utils.cpp_extension', 'torch.utils.benchmark', 'torch._inductor', 'torch._dynamo', 'torch._export', 'torch.export', 'torch.package', 'torch.fx', 'torch.ops', 'torch._ops', 'torch.classes', 'torch.jit',
      'keras.src.layers.core.lambda_layer', 'transformers.dynamic_module_utils',
    ],
  ],
  [
    'deserializes or loads further data that can run code',
    [
      'pickle', '_pickle', 'cPickle', 'pickletools', 'marshal', 'dill', 'cloudpickle', 'joblib.load', 'joblib.numpy_pickle.load', 'joblib.numpy_pickle_compat', 'joblib.memory', 'joblib.Memory', 'jsonpickle', 'yaml', 'ruamel',
      'numpy._core.multiarray.loads', 'numpy.ma.core.loads', 'torch.serialization', 'torch.storage._load_from_bytes', 'torch.hub', 'torch.distributed', 'torch.multiprocessing',
      'torch.utils._config_module', 'torch.utils.data.datapipes.utils.decoder', 'keras.src.saving', 'keras.saving', 'copyreg.add_extension',
    ],
  ],
  ['installs packages or builds code', ['pip', 'ensurepip', 'setuptools', 'distutils', '_distutils_hack', 'venv', 'sysconfig']],
  [
    'opens network connections',
    [
      'socket', '_socket', 'ssl', '_ssl', 'socketserver', 'http', 'urllib', 'urllib2', 'urllib3', 'httplib', 'requests', 'httpx', 'aiohttp', 'ftplib', 'smtplib', 'smtpd', 'telnetlib', 'poplib', 'imaplib', 'nntplib',
      'xmlrpc', 'xmlrpclib', 'webbrowser', 'antigravity', 'wsgiref', 'asyncore', 'asynchat', 'SimpleHTTPServer', 'BaseHTTPServer', 'CGIHTTPServer', 'SocketServer', 'huggingface_hub',
    ],
  ],
];

const DENY = new Map<string, string>();
for (const [reason, paths] of GROUPS) for (const p of paths) DENY.set(p, reason);

/** The deny-list as data, for tests. */
export function denyEntries(): ReadonlyMap<string, string> {
  return DENY;
}

const TABLE = prefixTable(DENY);

/** The reason of the longest denied prefix of `path` (at a dot boundary), if any. */
export function deniedPrefix(path: string): string | undefined {
  return longestPrefix(TABLE, path)?.value;
}

/** Leaf names that do something dangerous whatever module they are reached through. */
export const DANGEROUS_LEAF = new Map<string, string>();
function leaves(reason: string, ...names: string[]): void {
  for (const n of names) DANGEROUS_LEAF.set(n, reason);
}
leaves('runs a command or code', 'system', 'popen', 'exec', 'eval', 'execfile', 'spawn', 'fork', 'forkpty', 'fork_exec', 'Popen', 'getoutput', 'getstatusoutput', 'check_output', 'check_call', 'run_path', 'run_module', 'runsource', 'runcode', 'runctx', 'run_string', 'pipepager', 'tempfilepager', 'pipe_pager', 'tempfile_pager', 'sympify', 'parse_expr');
leaves('imports a module by name', 'import_module', 'exec_module', 'load_module', 'load_source', 'load_dynamic', 'load_compiled', 'resolve_name', 'getattr', 'setattr', 'delattr');
leaves('deserializes data that can run code', 'load', 'loads', '_load', '_loads', 'load_inline', 'load_model', 'unsafe_load', 'full_load', 'from_pretrained', 'load_dataset', 'enable_unsafe_deserialization');
leaves('writes, maps or deletes files', 'write_text', 'write_bytes', 'write_file', 'save', 'savetxt', 'savez', 'savez_compressed', 'savemat', 'tofile', 'dump', 'to_pickle', 'from_file', 'extractall', 'rmtree', 'unlink', 'remove', 'rmdir', 'chmod', 'chown', 'symlink', 'makedirs', 'copyfile', 'copytree', 'mkstemp', 'mkdtemp');
leaves('downloads from the network', 'urlopen', 'urlretrieve', 'get_file', 'load_state_dict_from_url', 'download_url_to_file', 'hf_hub_download', 'snapshot_download');
export const DANGEROUS_LEAF_PREFIX = /^(spawn|exec[lv]|popen|system)/;

/**
 * Modules that are dangerous even when reached as an attribute of another
 * (`torch.serialization.os.system`, `tempfile._os.kill`), also under the
 * underscored names modules import them as.
 */
export const DANGEROUS_INNER = new Set(['os', '_os', 'posix', 'nt', 'subprocess', '_subprocess', 'builtins', '__builtin__', '__builtins__', '_builtins', 'sys', '_sys', 'pickle', '_pickle', 'marshal', 'importlib', '_imp', 'runpy', 'ctypes', 'socket', '_socket', 'shutil', '_shutil', 'pty', 'dill', 'cloudpickle', '_posixsubprocess']);

/**
 * Libraries where a whole family of names is dangerous wherever it sits
 * (`pandas.DataFrame.to_csv`, `pandas.read_html`, `tensorflow.compat.v1.io.write_file`).
 */
export const SEGMENT_RULES: ReadonlyArray<{ under: string; segment: RegExp; reason: string }> = [
  { under: 'pandas', segment: /^(read_\w+|to_(pickle|csv|excel|hdf|parquet|feather|json|sql|stata|html|latex|markdown|orc|xml|clipboard|string|gbq)|eval|query)$/, reason: 'reads or writes files, opens URLs or evaluates expressions' },
  { under: 'tensorflow', segment: /^(io|gfile|raw_ops|py_func|py_function|numpy_function|saved_model|Lambda|get_file)$/, reason: 'reads or writes files, runs Python code or loads saved programs' },
  { under: 'tf_keras', segment: /^(Lambda|saving|get_file)$/, reason: 'runs code it carries or loads saved models' },
  { under: 'keras', segment: /^(Lambda|saving|get_file)$/, reason: 'runs code it carries or loads saved models' },
];
