// Issue 19, items 3 and 4: object arrays that .npy/.npz headers and joblib
// wrappers hid from the scan. Every file is assembled here byte by byte and
// opcode by opcode; each bypass passed `mlgate:recommended` before the fix.
import { runGate } from './helpers/gate.js';
import { describe, expect, it } from 'vitest';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { scanModelBytes } from '../src/formats/pickle/model-file.js';
import { DEFAULT_LIMITS, PickleMachine, type ScanIssue } from '../src/formats/pickle/scanner.js';
import { bufferAccess, rangeSource } from '../src/formats/pickle/source.js';
import { Window } from '../src/formats/pickle/window.js';
import type { Report } from '../src/report/types.js';
import { makeZip, p, type P } from './pickle-fixtures.js';

const floats = (n: number): Buffer => Buffer.from(new Float64Array(n).fill(0.25).buffer);

/** `os.system('echo pwned')`, padded with a dropped string to exactly `size` bytes when asked. */
function payload(size?: number): Buffer {
  const build = (filler: string) => p().proto(2).global('os', 'system').str('echo pwned').tuple1().reduce().str(filler).pop().stop().build_();
  const base = build('').length;
  if (size === undefined) return build('');
  if (size < base || size - base > 255) throw new Error(`cannot pad a payload to ${size} bytes`);
  return build('x'.repeat(size - base));
}

/** A .npy file around an arbitrary header text: magic, version, little-endian length, text padded to 64 bytes. */
function npyWithHeader(text: string, body: Buffer, version = 1): Buffer {
  const prefix = version === 1 ? 10 : 12;
  let header = text;
  header += ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, version === 3 ? 'utf8' : 'latin1'), body]);
}

// --- joblib: numpy.dtype pickles and NumpyArrayWrapper states

interface DtypeState {
  version?: number;
  endian?: string;
  subarray?: (b: P) => P;
  fields?: Array<[string, (b: P) => P, number]>;
  elsize?: number;
  alignment?: number;
  flags?: number;
}

/** `numpy.dtype(typestr, False, True)` with BUILD state `(version, endian, subarray, names, fields, elsize, alignment, flags)`. */
function dtype(typestr: string, st: DtypeState = {}): (b: P) => P {
  return (b) => {
    b = b.global('numpy', 'dtype').str(typestr).bool(false).bool(true).tuple3().reduce();
    b = b.mark().int(st.version ?? 3).str(st.endian ?? '|');
    b = st.subarray ? st.subarray(b) : b.none();
    if (st.fields) {
      b = b.mark();
      for (const [name] of st.fields) b = b.str(name);
      b = b.tuple().emptyDict().mark();
      for (const [name, f, offset] of st.fields) b = f(b.str(name)).int(offset).tuple2();
      b = b.setitems();
    } else b = b.none().none();
    return b
      .int(st.elsize ?? -1)
      .int(st.alignment ?? -1)
      .int(st.flags ?? 0)
      .tuple()
      .build();
  };
}

const O8 = dtype('O8', { flags: 63 });
const F8 = dtype('f8', { endian: '<' });

/** A NumpyArrayWrapper as joblib pickles it: `{subclass, shape, order, dtype, allow_mmap[, numpy_array_alignment_bytes]}`. */
function wrapper(b: P, count: number, dt: (b: P) => P, opts: { aligned?: boolean; extra?: (b: P) => P } = {}): P {
  b = b.global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().newobj().emptyDict();
  b = b.mark().str('subclass').global('numpy', 'ndarray').str('shape').int(count).tuple1().str('order').str('C');
  b = dt(b.str('dtype')).str('allow_mmap').bool(false);
  if (opts.aligned) b = b.str('numpy_array_alignment_bytes').int(16);
  if (opts.extra) b = opts.extra(b);
  return b.setitems().build();
}

/** `[array]`: the outer pickle around one wrapper, its stream bytes, then the rest of the pickle. */
const joblibFile = (wrap: (b: P) => P, stream: Buffer, rest: (b: P) => P = (b) => b): Buffer => rest(wrap(p().proto(4).emptyList()).data(stream).append()).stop().build_();

// --- running the rule under mlgate:recommended

const gate = (files: Record<string, Buffer>): Promise<Report> => runGate(files, { now: new Date('2026-12-01T00:00:00Z') });
const modelFindings = (r: Report, path: string) => r.findings.filter((f) => f.rule === 'model-file-safety' && f.path === path);

async function expectBlocked(path: string, data: Buffer, code = 'dangerous-global'): Promise<void> {
  const r = await gate({ [path]: data });
  const found = modelFindings(r, path);
  const want = `model-file-safety/${code}`;
  expect(found.map((f) => `${f.level}:${f.code}`), JSON.stringify(found.map((f) => f.message))).toContain(`error:${want}`);
  expect(found.find((f) => f.code === want)!.waived).toBeNull();
  expect(r.conclusion).toBe('failure');
}

async function expectPasses(path: string, data: Buffer): Promise<void> {
  const r = await gate({ [path]: data });
  expect(modelFindings(r, path).map((f) => `${f.code}: ${f.message}`)).toEqual([]);
  expect(r.conclusion).toBe('success');
}

const scan = async (data: Buffer) => (await scanModelBytes(data, 'strict', { allow: compileAllowList([]), maxBytes: 1 << 30 })).issues;

describe('item 3: .npy object dtypes spelled so a regular expression missed them', () => {
  const bypasses: Array<[string, string]> = [
    ['a hex escape for O', "{'descr': '\\x4f', 'fortran_order': False, 'shape': (1,), }"],
    ['the type name object', "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }"],
    ['implicit concatenation', "{'descr': '' 'O', 'fortran_order': False, 'shape': (1,), }"],
    ['a second descr key after <f8', "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': '|O', }"],
    ['a comma-separated spec', "{'descr': 'f8,O', 'fortran_order': False, 'shape': (1,), }"],
    ['a sub-array spec in a field', "{'descr': [('a', '<f8'), ('b', '(2,)O')], 'fortran_order': False, 'shape': (1,), }"],
    ['octal and unicode escapes', "{'descr': '\\174\\u004f', 'fortran_order': False, 'shape': (1,), }"],
  ];
  it.each(bypasses)('.npy: %s is scanned as a pickle', async (_name, header) => {
    await expectBlocked('data/x.npy', npyWithHeader(header, payload()));
  });
  it.each(bypasses)('.npz: %s is scanned as a pickle', async (_name, header) => {
    const npz = makeZip([
      { name: 'ok.npy', data: npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", floats(2)) },
      { name: 'x.npy', data: npyWithHeader(header, payload()), method: 8 },
    ]);
    await expectBlocked('data/x.npz', npz);
  });

  it('says which dtype made the data a pickle', async () => {
    const issues = await scan(npyWithHeader("{'descr': '' 'O', 'fortran_order': False, 'shape': (1,), }", payload()));
    expect(issues.map((i) => i.message).join('\n')).toMatch(/object array \(dtype 'O'\) imports os\.system/);
  });

  it('a header numpy would refuse is malformed, not skipped', async () => {
    for (const header of ["{'descr': '|O', 'shape': (1,), }", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), 'x': 1}", "['descr', 'fortran_order', 'shape']", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), "]) {
      await expectBlocked('data/bad.npy', npyWithHeader(header, payload()), 'malformed');
    }
  });

  it('near misses pass: a float64 array, a structured dtype of numeric fields, a Python 2 header', async () => {
    await expectPasses('data/f.npy', npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", floats(3)));
    const structured = npyWithHeader("{'descr': [('a', '<f8'), ('b', '<i4', (2,)), ('', '|V8')], 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(24));
    await expectPasses('data/s.npy', structured);
    await expectPasses('data/s.npz', makeZip([{ name: 's.npy', data: structured, method: 8 }]));
    await expectPasses('data/py2.npy', npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 2L), }", floats(2)));
  });
});

describe('item 4: joblib arrays whose dtype hides an inline pickle', () => {
  // An object sub-array dtype: numpy pickles it as V48 with subarray (dtype('O8'), (6,)).
  const objectSubarray = dtype('V48', { subarray: (b) => O8(b).int(6).tuple1().tuple2(), elsize: 48, alignment: 8, flags: 63 });
  const bypasses: Array<[string, (b: P) => P]> = [
    ['V48 with an object sub-array', (b) => wrapper(b, 2, objectSubarray)],
    ['a void dtype whose only sign is the hasobject flag', (b) => wrapper(b, 2, dtype('V48', { elsize: 48, alignment: 8, flags: 1 }))],
    ['an object sub-array with the flags cleared', (b) => wrapper(b, 2, dtype('V48', { subarray: (x) => O8(x).int(6).tuple1().tuple2(), elsize: 48 }))],
    ['a structured dtype with an object field (version 2 state; caught before too)', (b) => wrapper(b, 2, dtype('V48', { version: 2, fields: [['a', F8, 0], ['b', O8, 8]], elsize: 48 }))],
    ['a second dtype key in the wrapper state', (b) => wrapper(b, 12, F8, { extra: (x) => O8(x.str('dtype')) })],
  ];
  it.each(bypasses)('%s: the inline pickle is scanned', async (_name, wrap) => {
    // Sized exactly as the old reading skipped it (96 bytes), so the outer pickle went on cleanly.
    await expectBlocked('models/arrays.joblib', joblibFile(wrap, payload(96)));
  });

  /**
   * Raw array bytes that, read as opcodes, open a BINBYTES swallowing `hidden`:
   * joblib skips the 16 bytes and runs `hidden`; a scanner that missed the
   * array would skip `hidden` as a byte string.
   */
  const swallowing = (hidden: Buffer): Buffer => {
    const filler = Buffer.alloc(11, 0x4e);
    const n = filler.length + hidden.length;
    return Buffer.concat([Buffer.from([0x42, n & 0xff, (n >> 8) & 0xff, 0, 0]), filler, hidden]);
  };
  const system = p().global('os', 'system').str('echo pwned').tuple1().reduce().pop().build_();
  const wrapperState = (b: P, count: number): P => {
    b = b.emptyDict().mark().str('subclass').global('numpy', 'ndarray').str('shape').int(count).tuple1().str('order').str('C');
    return F8(b.str('dtype')).str('allow_mmap').bool(false).setitems();
  };

  it('a wrapper fetched from the memo and built again reads a second array', async () => {
    let b = p().proto(4).emptyList().global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().newobj().put(9);
    b = wrapperState(b, 0).build().append();
    // The second BUILD updates the same wrapper: joblib reads 2 × 8 bytes after it.
    b = wrapperState(b.get(9), 2).build();
    await expectBlocked('models/rebuilt.joblib', b.data(swallowing(system)).append().stop().build_());
  });

  it('a wrapper made through copyreg.__newobj__ is a wrapper too', async () => {
    let b = p().proto(2).emptyList().global('copyreg', '__newobj__').global('joblib.numpy_pickle', 'NumpyArrayWrapper').tuple1().reduce();
    b = wrapperState(b, 2).build();
    await expectBlocked('models/newobj.joblib', b.data(swallowing(system)).append().stop().build_());
  });

  it('a wrapper the full memo dropped fails closed when it is built again', async () => {
    let b = p().proto(4).emptyList().global('joblib.numpy_pickle', 'NumpyArrayWrapper').put(0).pop();
    b = b.emptyTuple().put(1).pop().emptyTuple().put(2).pop();
    // The memo holds 3 entries here: the wrapper's index 9 is not kept.
    b = b.get(0).emptyTuple().newobj().put(9);
    b = wrapperState(b, 0).build().append();
    b = wrapperState(b.get(9), 2).build().data(swallowing(system)).append().stop();
    const issues: ScanIssue[] = [];
    const data = b.build_();
    const m = new PickleMachine(new Window(rangeSource(bufferAccess(data), 0, data.length), 1 << 16), { onImport: () => {}, onIssue: (i) => issues.push(i) }, { ...DEFAULT_LIMITS, maxMemo: 3 });
    expect((await m.parse()).ok).toBe(false);
    expect(issues.map((i) => `${i.kind}: ${i.message}`).join('\n')).toMatch(/budget-exceeded: BUILD at byte \d+ applies to an object the full memo did not keep/);
  });

  it('a numeric dtype with a bogus pickled elsize is sized as numpy sizes it', async () => {
    // numpy keeps the pickled elsize only for flexible types: f8 stays 8 bytes, and the global after them runs.
    const wrap = (b: P) => wrapper(b, 1, dtype('f8', { endian: '<', elsize: 64 }));
    const hidden = Buffer.concat([floats(1), p().global('os', 'system').str('echo pwned').tuple1().reduce().pop().build_()]);
    const data = joblibFile(wrap, Buffer.concat([hidden, Buffer.alloc(64 - hidden.length, 0x4e)]), (b) => b);
    const issues = await scan(data);
    expect(issues.map((i) => i.code)).toContain('dangerous-global');
  });

  it('a dtype state it cannot read fails closed', async () => {
    const odd = (b: P) => wrapper(b, 2, (x) => x.global('numpy', 'dtype').str('V16').bool(false).bool(true).tuple3().reduce().mark().int(3).str('|').tuple().build());
    await expectBlocked('models/odd.joblib', joblibFile(odd, floats(4)), 'malformed');
  });

  it('an array whose dtype the pickle first built for a numpy scalar (and memoised) is sized, not refused', async () => {
    // joblib.dump({'intercept_': np.float64(0.5), 'coef_': np.zeros(3)}): the wrapper refers back to the scalar's dtype.
    let b = p().proto(2).emptyDict().mark().str('intercept_').global('numpy.core.multiarray', 'scalar');
    b = b.global('numpy', 'dtype').str('f8').bool(false).bool(true).tuple3().reduce().put(7);
    b = b.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build();
    b = b.bytes(floats(1)).tuple2().reduce().str('coef_');
    b = wrapper(b, 3, (x) => x.get(7)).data(floats(3)).setitems();
    await expectPasses('models/estimator.joblib', b.stop().build_());
  });

  it('near misses pass: float64 arrays (aligned and not), a structured dtype of numeric fields', async () => {
    const aligned = joblibFile((b) => wrapper(b, 3, F8, { aligned: true }), Buffer.concat([Buffer.from([3, 0xff, 0xff, 0xff]), floats(3)]));
    await expectPasses('models/aligned.joblib', aligned);
    await expectPasses('models/plain.joblib', joblibFile((b) => wrapper(b, 5, F8), floats(5)));
    const record = dtype('V16', { fields: [['a', F8, 0], ['b', dtype('i8', { endian: '<' }), 8]], elsize: 16, alignment: 1, flags: 16 });
    await expectPasses('models/record.joblib', joblibFile((b) => wrapper(b, 2, record), Buffer.alloc(32, 7)));
    const subarray = dtype('V48', { subarray: (b) => F8(b).int(6).tuple1().tuple2(), elsize: 48, alignment: 8 });
    await expectPasses('models/sub.joblib', joblibFile((b) => wrapper(b, 1, subarray), Buffer.alloc(48, 0x4e)));
  });
});
