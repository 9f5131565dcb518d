import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scanModelBytes, type ModelIssue } from '../src/formats/pickle/model-file.js';
import { classifyGlobal, compileAllowList } from '../src/formats/pickle/classify.js';
import { DEFAULT_LIMITS, PickleMachine, type ScanIssue, type ScanLimits } from '../src/formats/pickle/scanner.js';
import { bufferAccess, rangeSource } from '../src/formats/pickle/source.js';
import { Window } from '../src/formats/pickle/window.js';
import { callPickle, joblibWrapper, makeZip, npy, p, torchDataPkl, torchZip } from './pickle-fixtures.js';

async function scan(data: Buffer, opts: { allow?: string[]; mode?: 'strict' | 'sniff'; maxBytes?: number } = {}): Promise<ModelIssue[]> {
  const r = await scanModelBytes(data, opts.mode ?? 'strict', { allow: compileAllowList(opts.allow ?? []), maxBytes: opts.maxBytes ?? 1 << 30 });
  return r.issues;
}
const codes = (issues: ModelIssue[]): string[] => issues.map((i) => i.code).sort();

const OS_SYSTEM_0 = Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", 'latin1');
const floats = (n: number): Buffer => Buffer.from(new Float64Array(n).fill(0.5).buffer);

/** Legacy (non-zip) torch.save: magic number, protocol version, sys info, the object, storage keys, raw storages. */
function legacyTorch(main: Buffer): Buffer {
  const magic = p().proto(2).long1(0x1950a86a20f9469cfc6cn).stop().build_();
  const version = p().proto(2).int(1001).stop().build_();
  const sysInfo = p().proto(2).emptyDict().str('little_endian').bool(true).setitem().stop().build_();
  const keys = p().proto(2).emptyList().str('0').append().stop().build_();
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(128n); // 0x80 0x00…: looks like PROTO 0 but is raw storage data
  return Buffer.concat([magic, version, sysInfo, main, keys, size, floats(128)]);
}

describe('pickle scanner: benign files of every protocol stay clean', () => {
  const benign: Array<[string, Buffer]> = [
    ['protocol 0 dict of OrderedDict', Buffer.from("(dp0\nS'w'\np1\nccollections\nOrderedDict\np2\n(tRp3\ns.", 'latin1')],
    ['protocol 0 INT/LONG/FLOAT/UNICODE/GET', Buffer.from("(lp0\nI1\naI01\naL12345678901234567890L\naF1.5\naVh\\u00e9llo\np1\nag1\na.", 'latin1')],
    ['protocol 1 with Python 2 names', p().emptyDict().put(0).shortBinstring('s').global('__builtin__', 'set').put(1).mark().int(1).int(2).list().tuple1().reduce().setitem().stop().build_()],
    ['protocol 2 torch data.pkl', torchDataPkl()],
    ['protocol 2 numpy array via _codecs.encode', p().proto(2).global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).tuple1().global('_codecs', 'encode').str('b').str('latin1').tuple2().reduce().tuple3().reduce().mark().int(1).int(3).tuple1().global('numpy', 'dtype').str('f8').bool(false).bool(true).tuple3().reduce().mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build().bool(false).global('_codecs', 'encode').str('\u0000'.repeat(24)).str('latin1').tuple2().reduce().tuple().build().stop().build_()],
    ['protocol 3 bytes and big BINBYTES', p().proto(3).mark().bytes(Buffer.from('abc')).bytes(Buffer.alloc(70_000, 7)).list().stop().build_()],
    ['protocol 4 frame, STACK_GLOBAL and memo', p().proto(4).frame(40).str('collections').memoize().str('OrderedDict').memoize().stackGlobal().memoize().emptyTuple().reduce().memoize().get(0).get(1).stackGlobal().pop().stop().build_()],
    ['protocol 4 BINUNICODE8 and sets', p().proto(4).emptySet().mark().binunicode8('x').int(1).additems().mark().int(1).frozenset().tuple2().stop().build_()],
    ['protocol 5 out-of-band buffers', p().proto(5).global('numpy._core.numeric', '_frombuffer').mark().nextBuffer().readonlyBuffer().global('numpy', 'dtype').str('f4').bool(false).bool(true).tuple3().reduce().int(4).tuple1().str('C').tuple().reduce().bytearray8(Buffer.from('xyz')).pop().stop().build_()],
    ['protocol 2 copyreg reconstructor of datetime', p().proto(2).global('copy_reg', '_reconstructor').global('datetime', 'date').global('__builtin__', 'object').none().tuple3().reduce().stop().build_()],
    ['persistent ids (protocol 0)', p().persid0('storage_0').stop().build_()],
    ['POP_MARK, DUP, POP of a mark', p().proto(2).mark().int(1).int(2).popMark().int(3).dup().pop().mark().pop().stop().build_()],
    ['several benign pickles in one stream', Buffer.concat([torchDataPkl(), torchDataPkl(), p().proto(4).none().stop().build_()])],
    ['benign pickle followed by raw data', Buffer.concat([torchDataPkl(), Buffer.from([0xff, 0xfe, 0x00, 0x01])])],
    ['embedded bytes that only look like a pickle', p().proto(3).bytes(Buffer.from([0x80, 0x02, 0xff, 0xff])).stop().build_()],
    ['legacy torch file', legacyTorch(torchDataPkl())],
    ['joblib with aligned arrays', Buffer.concat([joblibWrapper(p().proto(4).emptyList(), 3).data(Buffer.from([3, 0xff, 0xff, 0xff])).data(floats(3)).append().stop().build_()])],
    ['joblib with an unaligned array', Buffer.concat([joblibWrapper(p().proto(2), 5, { aligned: false }).data(floats(5)).stop().build_()])],
    ['joblib object array (inline pickle)', joblibWrapper(p().proto(4), 2, { object: true }).data(p().proto(2).global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).tuple1().bytes(Buffer.from('b')).tuple3().reduce().stop().build_()).stop().build_()],
    ['.npy float array', npy("'<f8'", '(3,)', floats(3))],
    ['.npy object array with a benign pickle', npy("'|O'", '(1,)', p().proto(3).mark().int(1).list().stop().build_())],
    ['.npy version 2 header', npy("'<f8'", '(3,)', floats(3), 2)],
    ['.npz of benign arrays', makeZip([{ name: 'a.npy', data: npy("'<f8'", '(3,)', floats(3)) }, { name: 'b.npy', data: npy("'|O'", '(1,)', p().proto(2).none().stop().build_()), method: 8 }])],
    ['gzip-compressed benign pickle', gzipSync(torchDataPkl())],
    ['Keras archive without Lambda', makeZip([{ name: 'metadata.json', data: Buffer.from('{}') }, { name: 'config.json', data: Buffer.from(JSON.stringify({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd' } }] } })) }, { name: 'model.weights.h5', data: Buffer.from('\x89HDF\r\n\x1a\n', 'latin1') }])],
    ['HDF5 without Lambda', Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.from('{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}')])],
  ];
  it.each(benign)('%s', async (_name, data) => {
    expect(await scan(data)).toEqual([]);
  });
});

describe('pickle scanner: dangerous files and evasions', () => {
  const bad: Array<[string, Buffer, string[], RegExp?]> = [
    ['protocol 0 os.system', OS_SYSTEM_0, ['dangerous-global'], /os\.system at byte 0 \(GLOBAL\)/],
    ['protocol 1 posix.system', p().global('posix', 'system').shortBinstring('id').tuple1().reduce().stop().build_(), ['dangerous-global'], /posix\.system/],
    ['protocol 2 subprocess.check_output', callPickle('subprocess', 'check_output'), ['dangerous-global']],
    ['protocol 3 builtins.eval', p().proto(3).global('builtins', 'eval').bytes(Buffer.from('x')).tuple1().reduce().stop().build_(), ['dangerous-global']],
    ['protocol 4 STACK_GLOBAL os.system', p().proto(4).str('os').str('system').stackGlobal().str('id').tuple1().reduce().stop().build_(), ['dangerous-global'], /STACK_GLOBAL/],
    ['protocol 5 nt.system', p().proto(5).str('nt').memoize().str('system').memoize().stackGlobal().str('id').tuple1().reduce().stop().build_(), ['dangerous-global']],
    ['STACK_GLOBAL operands fetched from the memo', p().proto(4).str('subprocess').put(7).pop().str('Popen').put(8).pop().get(7).get(8).stackGlobal().stop().build_(), ['dangerous-global'], /subprocess\.Popen/],
    ['STACK_GLOBAL operands from protocol 0 strings', p().proto(4).unicode0('runpy').string0('_run_code').stackGlobal().stop().build_(), ['dangerous-global']],
    ['STACK_GLOBAL module computed by a call', p().proto(4).global('collections', 'OrderedDict').emptyTuple().reduce().str('system').stackGlobal().stop().build_(), ['dynamic-import'], /computed at load time/],
    ['STACK_GLOBAL on a string too long to resolve', p().proto(4).str('os' + ' '.repeat(300)).str('system').stackGlobal().stop().build_(), ['dynamic-import']],
    ['INST opcode', Buffer.from("(S'id'\nios\nsystem\n.", 'latin1'), ['dangerous-global'], /INST/],
    ['OBJ opcode', p().mark().global('subprocess', 'Popen').string0('id').obj().stop().build_(), ['dangerous-global']],
    ['NEWOBJ_EX of a dangerous class', p().proto(4).global('subprocess', 'Popen').str('id').tuple1().emptyDict().newobjEx().stop().build_(), ['dangerous-global']],
    ['builtins.getattr chain', p().proto(2).global('builtins', 'getattr').global('builtins', '__import__').str('os').tuple1().reduce().str('system').tuple2().reduce().str('id').tuple1().reduce().stop().build_(), ['dangerous-global', 'dangerous-global', 'dynamic-import']],
    ['Python 2 __builtin__.eval', p().proto(2).global('__builtin__', 'eval').str('1').tuple1().reduce().stop().build_(), ['dangerous-global'], /__builtin__\.eval/],
    ['os.path.join (submodule of os)', callPickle('os.path', 'join'), ['dangerous-global']],
    ['dotted name through a module attribute', p().proto(4).global('torch.serialization', 'os.system').stop().build_(), ['dangerous-global']],
    ['dunder attribute walk', p().proto(4).global('collections', 'OrderedDict.__init__.__globals__').stop().build_(), ['dangerous-global'], /__init__/],
    ['runpy, importlib, marshal, pty, ctypes', Buffer.concat([callPickle('runpy', '_run_code'), callPickle('importlib', 'import_module'), callPickle('marshal', 'loads'), callPickle('pty', 'spawn'), callPickle('ctypes', 'CDLL')]), ['dangerous-global', 'dangerous-global', 'dangerous-global', 'dangerous-global', 'dangerous-global']],
    ['timeit, cProfile, pydoc, pip, torch.hub, numpy.f2py', Buffer.concat([callPickle('timeit', 'timeit'), callPickle('cProfile', 'run'), callPickle('pydoc', 'pipepager'), callPickle('pip', 'main'), callPickle('torch.hub', 'load'), callPickle('numpy.f2py', 'compile')]), Array(6).fill('dangerous-global')],
    ['asyncio subprocess, multiprocessing, socket, webbrowser, shutil', Buffer.concat([callPickle('asyncio.unix_events', '_UnixSubprocessTransport'), callPickle('multiprocessing.util', 'spawnv_passfds'), callPickle('socket', 'create_connection'), callPickle('webbrowser', 'open'), callPickle('shutil', 'rmtree')]), Array(5).fill('dangerous-global')],
    ['numpy.testing runstring, torch.jit load, code module', Buffer.concat([callPickle('numpy.testing._private.utils', 'runstring'), callPickle('torch.jit', 'load'), callPickle('code', 'InteractiveInterpreter')]), Array(3).fill('dangerous-global')],
    ['nested pickle passed to _pickle.loads', p().proto(3).global('_pickle', 'loads').bytes(callPickle('os', 'system')).tuple1().reduce().stop().build_(), ['dangerous-global', 'dangerous-global'], /^the byte string embedded at byte \d+: imports os\.system/],
    ['nested torch zip passed to _load_from_bytes', p().proto(2).global('torch.storage', '_load_from_bytes').bytes(torchZip(callPickle('os', 'system'))).tuple1().reduce().stop().build_(), ['dangerous-global', 'dangerous-global'], /member "archive\/data\.pkl": imports os\.system/],
    ['EXT1 extension-registry import', p().proto(2).ext1(1).emptyTuple().reduce().stop().build_(), ['dynamic-import'], /extension code 1/],
    ['calling the result of a call', p().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().emptyTuple().reduce().stop().build_(), ['dynamic-import']],
    ['BUILD on a module (monkey-patching)', p().proto(2).global('torch', '_utils').emptyDict().str('_rebuild_tensor_v2').none().setitem().build().stop().build_(), ['global-mutation', 'unknown-global']],
    ['unknown global is a warning', callPickle('sklearn.linear_model', 'LogisticRegression'), ['unknown-global']],
    ['malicious pickle after a benign one', Buffer.concat([torchDataPkl(), OS_SYSTEM_0]), ['dangerous-global'], /^the 2nd pickle \(from byte \d+\): imports os\.system at byte/],
    ['malicious pickle that is then cut off', OS_SYSTEM_0.subarray(0, OS_SYSTEM_0.length - 1), ['dangerous-global', 'malformed']],
    ['malicious pickle hidden in legacy torch main object', legacyTorch(callPickle('os', 'system')), ['dangerous-global']],
    ['joblib object array holding a payload', joblibWrapper(p().proto(4), 1, { object: true }).data(callPickle('os', 'system')).stop().build_(), ['dangerous-global']],
    ['payload after joblib array bytes', joblibWrapper(p().proto(4), 2, { aligned: false }).data(floats(2)).global('os', 'system').pop().stop().build_(), ['dangerous-global']],
    ['joblib wrapper that cannot be sized', p().proto(4).global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().newobj().emptyDict().build().stop().build_(), ['malformed'], /cannot size/],
    ['.npy object array with a payload', npy("'|O'", '(1,)', callPickle('os', 'system')), ['dangerous-global'], /object array/],
    ['.npy structured dtype with an object field', npy("[('a', '<f8'), ('b', '|O')]", '(1,)', callPickle('os', 'system')), ['dangerous-global']],
    ['.npz member with a payload', makeZip([{ name: 'x.npy', data: npy("'|O'", '(1,)', callPickle('os', 'system')), method: 8 }]), ['dangerous-global'], /member "x\.npy"/],
    ['gzip-compressed payload', gzipSync(OS_SYSTEM_0), ['dangerous-global'], /gzip-decompressed/],
    ['bzip2-compressed pickle', Buffer.from('BZh91AY&SY'), ['unscannable']],
    ['Keras config with a Lambda layer', makeZip([{ name: 'metadata.json', data: Buffer.from('{}') }, { name: 'config.json', data: Buffer.from(JSON.stringify({ class_name: 'Functional', config: { layers: [{ module: 'keras.layers', class_name: 'Lambda', config: { name: 'evil', function: { class_name: '__lambda__', config: { code: 'xyz' } } } }] } })) }]), ['lambda-layer'], /"evil"/],
    ['Keras HDF5 with a Lambda layer', Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), Buffer.alloc(5000), Buffer.from('{"class_name": "Model", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAA", null, null]}}]}}')]), ['lambda-layer'], /"lam"/],
  ];
  it.each(bad)('%s', async (_name, data, want, message) => {
    const issues = await scan(data);
    expect(codes(issues)).toEqual([...want].sort());
    if (message) expect(issues.map((i) => i.message).join('\n')).toMatch(message);
    for (const i of issues) expect(i.severity).toBe(i.code === 'unknown-global' ? 'warning' : 'error');
  });

  it('allow-globals accepts reviewed globals, exact or by module, but never a dangerous one', async () => {
    const data = Buffer.concat([callPickle('sklearn.linear_model._logistic', 'LogisticRegression'), callPickle('mylib', 'Model'), callPickle('os', 'system')]);
    expect(codes(await scan(data))).toEqual(['dangerous-global', 'unknown-global', 'unknown-global']);
    expect(codes(await scan(data, { allow: ['sklearn.*', 'mylib.Model', 'os.system', 'os.*'] }))).toEqual(['dangerous-global']);
  });

  it('reports the byte offset of the import', async () => {
    const data = p().proto(2).none().pop().global('os', 'system').stop().build_();
    expect((await scan(data))[0]!.message).toMatch(/at byte 4 \(GLOBAL\)/);
  });
});

describe('pickle scanner: streams that do not parse fail closed', () => {
  const broken: Array<[string, Buffer, RegExp]> = [
    ['empty file', Buffer.alloc(0), /empty/],
    ['no STOP', p().proto(2).none().build_(), /truncated/],
    ['truncated BINBYTES payload', p().proto(3).data(Buffer.from([0x42, 0xff, 0xff, 0, 0, 1, 2, 3, 4])).build_(), /65535-byte payload/],
    ['bad opcode', p().proto(2).data(Buffer.from([0xff])).build_(), /not a pickle opcode/],
    ['protocol 6', p().proto(6).none().stop().build_(), /unsupported pickle protocol 6/],
    ['memo entry never stored', p().proto(2).get(3).stop().build_(), /never stored/],
    ['stack underflow', p().proto(2).reduce().stop().build_(), /underflow/],
    ['TUPLE without MARK', p().proto(2).tuple().stop().build_(), /MARK/],
    ['STOP on an empty stack', p().proto(2).stop().build_(), /underflow/],
    ['GLOBAL line too long', Buffer.concat([Buffer.from('c'), Buffer.alloc(70_000, 0x61)]), /longer than/],
    ['not a pickle at all', Buffer.from('{"a": 1}'), /does not start with a pickle opcode/],
    ['truncated .npy header', npy("'<f8'", '(3,)', Buffer.alloc(0)).subarray(0, 20), /not a valid \.npy/],
  ];
  it.each(broken)('%s', async (_name, data, message) => {
    const issues = await scan(data);
    expect(codes(issues)).toEqual(['malformed']);
    expect(issues[0]!.message).toMatch(message);
  });

  it('a file over the read budget is budget-exceeded', async () => {
    const big = p().proto(2).mark();
    for (let i = 0; i < 5000; i++) big.int(i);
    const issues = await scan(big.list().stop().build_(), { maxBytes: 1000 });
    expect(codes(issues)).toEqual(['budget-exceeded']);
  });

  it('skips large payloads without reading them', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, 1);
    const data = p().proto(4).bytes8(payload).binunicode8('z'.repeat(1000)).pop().stop().build_();
    expect(await scan(data, { maxBytes: 64 * 1024 })).toEqual([]);
  });
});

/** Runs the machine alone, with a window of `windowSize` bytes (small ones make it stop and resume often). */
async function machine(data: Buffer, limits: ScanLimits = DEFAULT_LIMITS, windowSize = 1 << 20): Promise<{ ok: boolean; issues: ScanIssue[] }> {
  const issues: ScanIssue[] = [];
  const m = new PickleMachine(new Window(rangeSource(bufferAccess(data), 0, data.length), windowSize), { onImport: () => {}, onIssue: (i) => issues.push(i) }, limits);
  return { ok: (await m.parse()).ok, issues };
}

describe('pickle scanner: memo and buffers reused across scans', () => {
  it('resolves STACK_GLOBAL operands memoised after many distinct strings', async () => {
    const b = p().proto(4).emptyList().memoize().mark();
    for (let i = 0; i < 40_000; i++) b.str(`token${i}`).memoize();
    const data = b.appends().str('subprocess').memoize().pop().str('Popen').memoize().pop().get(40_001).get(40_002).stackGlobal().stop().build_();
    const issues = await scan(data);
    expect(codes(issues)).toEqual(['dangerous-global']);
    expect(issues[0]!.message).toMatch(/subprocess\.Popen/);
  });

  it('a memo entry of an earlier pickle is not there for the next one', async () => {
    expect(await scan(p().proto(4).str('os').memoize().str('system').memoize().stackGlobal().stop().build_())).toHaveLength(1);
    const issues = await scan(p().proto(4).get(0).get(1).stackGlobal().stop().build_());
    expect(codes(issues)).toEqual(['malformed']);
    expect(issues[0]!.message).toMatch(/never stored/);
  });

  it('caps the opcode count exactly, also when the window makes the machine stop and resume', async () => {
    const nine = p().proto(2).mark().int(1).int(2).int(3).int(4).int(5).list().stop().build_();
    for (const windowSize of [1 << 20, 4]) {
      expect((await machine(nine, { ...DEFAULT_LIMITS, maxOpcodes: 9 }, windowSize)).ok).toBe(true);
      const capped = await machine(nine, { ...DEFAULT_LIMITS, maxOpcodes: 8 }, windowSize);
      expect(capped.ok).toBe(false);
      expect(capped.issues.map((i) => i.kind)).toEqual(['budget-exceeded']);
    }
  });
});

describe('classification', () => {
  it.each([
    ['torch._utils', '_rebuild_tensor_v2', 'safe'],
    ['torch', 'BFloat16Storage', 'safe'],
    ['torch', 'bfloat16', 'safe'],
    ['numpy.dtypes', 'Float64DType', 'safe'],
    ['copyreg', '__newobj__', 'safe'],
    ['__builtin__', 'set', 'safe'],
    ['os', 'system', 'dangerous'],
    ['posixpath', 'join', 'dangerous'],
    ['builtins', 'getattr', 'dangerous'],
    ['__builtin__', 'getattr', 'dangerous'],
    ['torch.serialization', 'load', 'dangerous'],
    ['mymodule', 'load', 'dangerous'],
    ['numpy', 'load', 'dangerous'],
    ['dill._dill', '_create_code', 'dangerous'],
    ['commands', 'getoutput', 'dangerous'],
    ['sklearn.tree', 'DecisionTreeClassifier', 'unknown'],
    ['__main__', 'Net', 'unknown'],
    ['myproject.code', 'Net', 'unknown'],
  ])('%s.%s is %s', (module, name, verdict) => {
    expect(classifyGlobal(module, name).verdict).toBe(verdict);
  });
});
