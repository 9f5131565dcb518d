/**
 * The Python 2 → 3 renames Python 3's unpickler applies to the globals of a
 * pickle, as CPython's `Lib/_compat_pickle.py` lists them (unpickling
 * direction only), and the condition it applies them under
 * (`Unpickler.find_class`: protocol below 3 and `fix_imports`, the default).
 * The protocol is that of the last PROTO opcode seen, 0 when there is none.
 *
 * Only these exact renames happen: a name the table does not list is imported
 * as written (`exceptions.set` looks for a module named `exceptions`), and
 * under protocol 3 and above nothing is renamed at all.
 */

/** Protocols below this have their Python 2 names mapped. */
export const FIX_IMPORTS_BELOW = 3;

/** Whole modules: `IMPORT_MAPPING`, including the one-way entries. */
const IMPORT_MAPPING = new Map<string, string>(Object.entries({
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  SocketServer: 'socketserver',
  ConfigParser: 'configparser',
  repr: 'reprlib',
  tkFileDialog: 'tkinter.filedialog',
  tkSimpleDialog: 'tkinter.simpledialog',
  tkColorChooser: 'tkinter.colorchooser',
  tkCommonDialog: 'tkinter.commondialog',
  Dialog: 'tkinter.dialog',
  Tkdnd: 'tkinter.dnd',
  tkFont: 'tkinter.font',
  tkMessageBox: 'tkinter.messagebox',
  ScrolledText: 'tkinter.scrolledtext',
  Tkconstants: 'tkinter.constants',
  Tix: 'tkinter.tix',
  ttk: 'tkinter.ttk',
  Tkinter: 'tkinter',
  markupbase: '_markupbase',
  _winreg: 'winreg',
  thread: '_thread',
  dummy_thread: '_dummy_thread',
  dbhash: 'dbm.bsd',
  dumbdbm: 'dbm.dumb',
  dbm: 'dbm.ndbm',
  gdbm: 'dbm.gnu',
  xmlrpclib: 'xmlrpc.client',
  SimpleXMLRPCServer: 'xmlrpc.server',
  httplib: 'http.client',
  htmlentitydefs: 'html.entities',
  HTMLParser: 'html.parser',
  Cookie: 'http.cookies',
  cookielib: 'http.cookiejar',
  BaseHTTPServer: 'http.server',
  'test.test_support': 'test.support',
  commands: 'subprocess',
  urlparse: 'urllib.parse',
  robotparser: 'urllib.robotparser',
  urllib2: 'urllib.request',
  anydbm: 'dbm',
  _abcoll: 'collections.abc',
  cPickle: 'pickle',
  _elementtree: 'xml.etree.ElementTree',
  FileDialog: 'tkinter.filedialog',
  SimpleDialog: 'tkinter.simpledialog',
  DocXMLRPCServer: 'xmlrpc.server',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  whichdb: 'dbm',
  StringIO: 'io',
  cStringIO: 'io',
}));

/** Single globals: `NAME_MAPPING`, written `module.name`; looked up before the module table. */
const NAME_ENTRIES: Record<string, string> = {
  '__builtin__.xrange': 'builtins.range',
  '__builtin__.reduce': 'functools.reduce',
  '__builtin__.intern': 'sys.intern',
  '__builtin__.unichr': 'builtins.chr',
  '__builtin__.unicode': 'builtins.str',
  '__builtin__.long': 'builtins.int',
  '__builtin__.basestring': 'builtins.str',
  'itertools.izip': 'builtins.zip',
  'itertools.imap': 'builtins.map',
  'itertools.ifilter': 'builtins.filter',
  'itertools.ifilterfalse': 'itertools.filterfalse',
  'itertools.izip_longest': 'itertools.zip_longest',
  'UserDict.IterableUserDict': 'collections.UserDict',
  'UserDict.UserDict': 'collections.UserDict',
  'UserList.UserList': 'collections.UserList',
  'UserString.UserString': 'collections.UserString',
  'whichdb.whichdb': 'dbm.whichdb',
  '_socket.fromfd': 'socket.fromfd',
  'socket._socketobject': 'socket.SocketType',
  '_multiprocessing.Connection': 'multiprocessing.connection.Connection',
  'multiprocessing.process.Process': 'multiprocessing.context.Process',
  'multiprocessing.forking.Popen': 'multiprocessing.popen_fork.Popen',
  'urllib.ContentTooShortError': 'urllib.error.ContentTooShortError',
  'urllib.getproxies': 'urllib.request.getproxies',
  'urllib.pathname2url': 'urllib.request.pathname2url',
  'urllib.quote_plus': 'urllib.parse.quote_plus',
  'urllib.quote': 'urllib.parse.quote',
  'urllib.unquote_plus': 'urllib.parse.unquote_plus',
  'urllib.unquote': 'urllib.parse.unquote',
  'urllib.url2pathname': 'urllib.request.url2pathname',
  'urllib.urlcleanup': 'urllib.request.urlcleanup',
  'urllib.urlencode': 'urllib.parse.urlencode',
  'urllib.urlopen': 'urllib.request.urlopen',
  'urllib.urlretrieve': 'urllib.request.urlretrieve',
  'urllib2.HTTPError': 'urllib.error.HTTPError',
  'urllib2.URLError': 'urllib.error.URLError',
  // Python 2's StandardError is gone; CPython reads it as Exception.
  'exceptions.StandardError': 'builtins.Exception',
};

/**
 * The exceptions Python 2 kept in the module `exceptions` and Python 3 has in
 * `builtins`; only these are renamed, so `exceptions.set` is not.
 */
const PYTHON2_EXCEPTIONS = [
  'ArithmeticError', 'AssertionError', 'AttributeError', 'BaseException', 'BufferError', 'BytesWarning', 'DeprecationWarning',
  'EOFError', 'EnvironmentError', 'Exception', 'FloatingPointError', 'FutureWarning', 'GeneratorExit', 'IOError', 'ImportError',
  'ImportWarning', 'IndentationError', 'IndexError', 'KeyError', 'KeyboardInterrupt', 'LookupError', 'MemoryError', 'NameError',
  'NotImplementedError', 'OSError', 'OverflowError', 'PendingDeprecationWarning', 'ReferenceError', 'RuntimeError', 'RuntimeWarning',
  'StopIteration', 'SyntaxError', 'SyntaxWarning', 'SystemError', 'SystemExit', 'TabError', 'TypeError', 'UnboundLocalError',
  'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError', 'UnicodeTranslateError', 'UnicodeWarning', 'UserWarning', 'ValueError',
  'Warning', 'ZeroDivisionError',
  // Only a Windows Python adds this one; it is an alias of OSError there, so mapping it everywhere changes no verdict.
  'WindowsError',
];
for (const e of PYTHON2_EXCEPTIONS) NAME_ENTRIES[`exceptions.${e}`] = `builtins.${e}`;
/** Python 2's multiprocessing exceptions live in multiprocessing.context now. */
for (const e of ['AuthenticationError', 'BufferTooShort', 'ProcessError', 'TimeoutError']) NAME_ENTRIES[`multiprocessing.${e}`] = `multiprocessing.context.${e}`;

export interface GlobalName {
  module: string;
  name: string;
}

/** Every name in the table is undotted, so the last dot splits module from name. */
function split(path: string): GlobalName {
  const dot = path.lastIndexOf('.');
  return { module: path.slice(0, dot), name: path.slice(dot + 1) };
}
/** Keyed by module and name apart, as CPython's tuples are: `('a', 'b.c')` is not `('a.b', 'c')`. */
const key = (module: string, name: string): string => `${module}\n${name}`;
const NAME_MAPPING = new Map<string, GlobalName>();
for (const [from, to] of Object.entries(NAME_ENTRIES)) {
  const f = split(from);
  NAME_MAPPING.set(key(f.module, f.name), split(to));
}

/** What Python 3 imports for a Python 2 global, renamed or not (whatever the protocol). */
export function python2Rename(module: string, name: string): GlobalName {
  const whole = NAME_MAPPING.get(key(module, name));
  if (whole !== undefined) return whole;
  const m = IMPORT_MAPPING.get(module);
  return m === undefined ? { module, name } : { module: m, name };
}

/** What Python 3's unpickler imports for a GLOBAL read under `proto`. */
export function resolveGlobal(module: string, name: string, proto: number): GlobalName {
  return proto < FIX_IMPORTS_BELOW ? python2Rename(module, name) : { module, name };
}

/** The tables as plain data, for the test that compares them with the running CPython's. */
export function compatTables(): { importMapping: ReadonlyMap<string, string>; nameMapping: Readonly<Record<string, string>> } {
  return { importMapping: IMPORT_MAPPING, nameMapping: NAME_ENTRIES };
}
