// Issue 19, the pickle machine's part: crafted files that slipped past the
// scanner, each paired with the benign file it imitates. Every byte is
// assembled here; nothing is unpickled.
import { runGate } from './helpers/gate.js';
import { describe, expect, it } from 'vitest';
import { compileAllowList } from '../src/formats/pickle/classify.js';
import { scanModelBytes, type ModelIssue } from '../src/formats/pickle/model-file.js';
import { isFloatArg, parseIntArg, parseLongArg, parseMemoIndexArg } from '../src/formats/pickle/numbers.js';
import { PickleMachine, type ImportRef, type PickleParse, type ScanIssue } from '../src/formats/pickle/scanner.js';
import { bufferAccess, rangeSource } from '../src/formats/pickle/source.js';
import { describe as describeValue, OPAQUE, type Value } from '../src/formats/pickle/values.js';
import { Window } from '../src/formats/pickle/window.js';
import type { Report } from '../src/report/types.js';
import { joblibWrapper, legacyTorchFile, legacyWholeModel, p, torchDataPkl, type P } from './pickle-fixtures.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

async function scan(data: Buffer): Promise<ModelIssue[]> {
  return (await scanModelBytes(data, 'strict', { allow: compileAllowList([]), maxBytes: 1 << 30 })).issues;
}
const codes = (issues: ModelIssue[]): string[] => issues.map((i) => i.code).sort();

/** The machine alone over `data`, through a window of `windowSize` bytes (small ones make it stop and resume). */
async function machine(data: Buffer, windowSize = 1 << 20): Promise<{ res: PickleParse; imports: ImportRef[]; issues: ScanIssue[] }> {
  const imports: ImportRef[] = [];
  const issues: ScanIssue[] = [];
  const m = new PickleMachine(new Window(rangeSource(bufferAccess(data), 0, data.length), windowSize), { onImport: (r) => imports.push(r), onIssue: (i) => issues.push(i) });
  return { res: await m.parse(), imports, issues };
}

const NOW = new Date('2026-11-28T12:00:00Z');

/** The whole engine under mlgate:recommended (no policy file, or one extending it) over a fresh repository. */
const gate = (files: Record<string, Buffer | string>, policy?: string): Promise<Report> => runGate(files, { policy, now: NOW });
const fileErrors = (r: Report, path: string) => r.findings.filter((f) => f.rule === 'model-file-safety' && f.path === path && f.level === 'error' && !f.waived);
const fileFindings = (r: Report, path: string) => r.findings.filter((f) => f.rule === 'model-file-safety' && f.path === path);

async function expectBlocked(path: string, data: Buffer, code: string, message?: RegExp): Promise<void> {
  const r = await gate({ [path]: data });
  const errors = fileErrors(r, path);
  expect(errors.map((f) => f.code)).toContain(`model-file-safety/${code}`);
  if (message) expect(errors.map((f) => f.message).join('\n')).toMatch(message);
  expect(r.conclusion).toBe('failure');
}

async function expectPasses(path: string, data: Buffer, policy?: string): Promise<Report> {
  const r = await gate({ [path]: data }, policy);
  expect(fileErrors(r, path)).toEqual([]);
  expect(r.conclusion).toBe('success');
  return r;
}

describe('item 6: text arguments are read as CPython reads them', () => {
  // A later pickle of a legacy checkpoint: forms CPython accepts before the payload.
  const later = (form: string) => legacyTorchFile(latin1(`${form}cos\nsystem\n(S'id'\ntR.`));

  it.each([
    ['INT in hex (strtol base 0)', 'I0x10\n0'],
    ['INT in C octal', 'I017\n0'],
    ['INT with a 0o prefix and underscores', 'I0o1_7\n0'],
    ['INT with surrounding whitespace', 'I \t12 \n0'],
    ['INT cut by a NUL byte', 'I12\x00junk\n0'],
    ['PUT with a leading space', 'Np 1\n0'],
    ['GET with underscores', 'Np1_0\n0g10\n0'],
    ['LONG in hex without its L', 'L0x1F\n0'],
    ['FLOAT written as infinity', 'F-Infinity\n0'],
  ])('a payload after %s is found and blocks the gate', async (_name, form) => {
    const data = later(form);
    expect((await machine(latin1(`${form}N.`))).res.ok).toBe(true);
    expect(codes(await scan(data))).toEqual(['dangerous-global']);
    await expectBlocked('models/legacy.pt', data, 'dangerous-global', /the 4th pickle \(from byte \d+\): imports os\.system/);
  });

  it('the same legacy checkpoint with plain forms and no payload passes', async () => {
    const main = latin1('I16\n0Np 1\n0ccollections\nOrderedDict\n(tR.');
    expect((await machine(main)).res.ok).toBe(true);
    await expectPasses('models/legacy.pt', legacyTorchFile(main));
  });

  it('forms CPython rejects make the first pickle malformed (fail closed)', async () => {
    for (const form of ['I08\n', 'I0x\n', 'I1L\n', 'I017 \n', 'I1__0\n', 'L010L\n', 'F1_0\n', 'F 1.5\n', 'F1e500\n', 'g0x1\n', "S'\n", "S'\\x4'\n", 'V\\u12\n', 'c\nsystem\n', 'cos\xff\nsystem\n', 'ios\xc3\xa9\nx\n', 'P\xe9\n']) {
      const r = await machine(latin1(`N${form}.`));
      expect(r.res.ok, JSON.stringify(form)).toBe(false);
      expect(r.res.error?.truncated, JSON.stringify(form)).toBe(false);
    }
    await expectBlocked('models/bad.pkl', latin1('NI08\n.'), 'malformed', /INT at byte 1 has an argument that CPython does not read as an integer/);
  });

  it('BINSTRING lengths are unsigned, as _pickle.c reads them', async () => {
    const r = await machine(Buffer.concat([latin1('T'), u32(0x80000000), latin1('abcdef')]));
    expect(r.res.error).toMatchObject({ truncated: true, message: expect.stringMatching(/inside the 2147483648-byte payload/) });
  });

  it('a negative PUT index is refused; GET of one was never stored', async () => {
    expect((await machine(latin1('Np-1\n.'))).res.error?.message).toMatch(/negative memo index/);
    expect((await machine(latin1('Ng-1\n.'))).res.error?.message).toMatch(/memo entry -1 .* never stored/);
  });

  it('long STRING and UNICODE lines are checked too', async () => {
    const long = 'a'.repeat(5000);
    expect((await machine(latin1(`S'${long}'\n.`))).res.ok).toBe(true);
    expect((await machine(latin1(`S'${long}\n.`))).res.ok).toBe(false);
    expect((await machine(latin1(`S'${long}\\x4'\n.`))).res.ok).toBe(false);
    expect((await machine(latin1(`V${long}\\u00e9\n.`))).res.ok).toBe(true);
    expect((await machine(latin1(`V${long}\\U00110000\n.`))).res.ok).toBe(false);
  });

  it('GLOBAL names are strict UTF-8, kept as written', async () => {
    const r = await machine(Buffer.from('cmodèle\nRéseau\n.', 'utf8'));
    expect(r.res.ok).toBe(true);
    expect(r.imports.map((i) => `${i.module}.${i.name}`)).toEqual(['modèle.Réseau']);
  });

  it('reports how many opcodes ran before a failure, for callers that must tell data from a broken pickle', async () => {
    expect((await machine(latin1('NNNI08\n.'))).res).toMatchObject({ ok: false, opcodes: 4 });
    expect((await machine(latin1('\xff'))).res).toMatchObject({ ok: false, opcodes: 1 });
    expect((await machine(latin1('NN0.'))).res).toMatchObject({ ok: true, opcodes: 4 });
  });
});

describe('item 6: the numbers of text arguments, fact by fact from _pickle.c', () => {
  const arg = (s: string) => [latin1(s), 0, Buffer.byteLength(s, 'latin1')] as const;
  it.each([
    // [line, value or undefined when CPython raises]
    ['0x10', 16n],
    ['-0x10', -16n],
    ['+0X1f', 31n],
    ['017', 15n], // strtol's leading-0 octal
    ['0o17', 15n], // PyLong's prefix, after strtol stops at 'o'
    ['0b101', 5n],
    ['0x_1f', 31n],
    ['1_000', 1000n],
    ['0_0', 0n],
    [' 1', 1n],
    ['\x0b5', 5n],
    [' 5 ', 5n],
    ['12\x00ab', 12n],
    ['\x00', 0n], // strtol reads no digit and stops at the NUL: accepted as 0
    ['9223372036854775808', 9223372036854775808n], // past a C long: PyLong takes over
    ['0xffffffffffffffffffff', 0xffffffffffffffffffffn],
    ['08', undefined],
    ['018', undefined],
    ['017 ', undefined], // strtol stops at the space, and PyLong refuses the leading zero
    ['0777777777777777777777777', undefined], // strtol overflows, and PyLong refuses the leading zero
    ['0x', undefined],
    ['1L', undefined],
    ['1__0', undefined],
    ['_1', undefined],
    ['1_', undefined],
    ['- 1', undefined],
    ['\x1c5', undefined],
    ['', undefined],
  ])('INT %j', (s, want) => {
    expect(parseIntArg(...arg(s))?.value).toBe(want);
  });

  it('INT of two characters reading 0 or 1 is a bool, as CPython makes it', () => {
    for (const s of ['00', '01', '+1', '-0', ' 1']) expect(parseIntArg(...arg(s))?.bool, s).toBe(true);
    for (const s of ['0', '1', '001', '10']) expect(parseIntArg(...arg(s))?.bool, s).toBe(false);
  });

  it.each([
    ['12L', 12n],
    ['12', 12n],
    ['0x10L', 16n],
    [' 7 L', 7n],
    ['-1_0L', -10n],
    ['010L', undefined],
    ['1LL', undefined],
    ['L', undefined],
  ])('LONG %j', (s, want) => {
    expect(parseLongArg(...arg(s))).toBe(want);
  });

  it.each([
    [' 1', 1n],
    ['1_0', 10n],
    ['+2', 2n],
    ['-0', 0n],
    ['007', 7n],
    ['0x1', undefined],
    ['1L', undefined],
    ['', undefined],
  ])('GET/PUT %j', (s, want) => {
    expect(parseMemoIndexArg(...arg(s))).toBe(want);
  });

  it.each([
    ['1.5', true],
    ['-.5', true],
    ['5.', true],
    ['1E5', true],
    ['inf', true],
    ['-Infinity', true],
    ['nan', true],
    ['1e-500', true],
    ['1.5\x00zz', true],
    [' 1.5', false],
    ['1.5 ', false],
    ['1_0', false],
    ['0x10', false],
    ['1e500', false],
    ['.', false],
    ['1e', false],
    ['infin', false],
    ['', false],
  ])('FLOAT %j', (s, want) => {
    expect(isFloatArg(...arg(s))).toBe(want);
  });
});

/** A protocol 4 pickle whose opcodes are grouped into frames by hand: each group is one FRAME (or unframed when `frame` is false). */
function framed(groups: Array<{ ops: Buffer; frame?: boolean; declared?: number }>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 4])];
  for (const g of groups) {
    if (g.frame !== false) {
      const h = Buffer.alloc(9);
      h[0] = 0x95;
      h.writeBigUInt64LE(BigInt(g.declared ?? g.ops.length), 1);
      parts.push(h);
    }
    parts.push(g.ops);
  }
  return Buffer.concat(parts);
}
const ops = (f: (b: P) => P): Buffer => f(p()).build_();
const PAYLOAD = ops((b) => b.global('os', 'system').str('id').tuple1().reduce().pop());

describe('item 15: opcodes that cross a FRAME boundary', () => {
  // FRAME says 2 bytes; BINBYTES inside says 263. Read in order the bytes are data; an
  // unpickler that drops the rest of the frame runs the GLOBAL os.system … REDUCE buried in them.
  const body = Buffer.concat([PAYLOAD, Buffer.alloc(263 - PAYLOAD.length, 0x4e)]);
  const reported = framed([{ ops: Buffer.concat([latin1('B'), u32(263), body, latin1('0N.')]), declared: 2 }]);

  const variants: Array<[string, Buffer]> = [
    ['the reported file: a BINBYTES of 263 bytes in a 2-byte frame', reported],
    ['an opcode byte at the frame end, its argument after it', framed([{ ops: latin1('K'), declared: 1 }, { ops: latin1('\x05.'), frame: false }])],
    ["a length field that straddles the frame's end", framed([{ ops: Buffer.concat([latin1('B'), u32(3), latin1('abc0N.')]), declared: 3 }])],
    ["a payload that straddles the frame's end", framed([{ ops: latin1('C\x0aabcdefghij0N.'), declared: 6 }])],
    ["a text line that straddles the frame's end", framed([{ ops: latin1('I12345\n0N.'), declared: 3 }])],
    ['a FRAME opened inside a frame', framed([{ ops: Buffer.concat([latin1('N'), Buffer.from([0x95, 3, 0, 0, 0, 0, 0, 0, 0]), latin1('0N.')]), declared: 13 }])],
    ['a STOP that leaves bytes in its frame', framed([{ ops: Buffer.concat([latin1('N.'), PAYLOAD]), declared: 2 + PAYLOAD.length }])],
    ['a frame that declares more than the file holds', framed([{ ops: latin1('N.'), declared: 100 }])],
  ];

  it.each(variants)('%s is malformed, at every window size', async (_name, data) => {
    for (const size of [1 << 20, 64, 16, 4]) {
      const r = await machine(data, size);
      expect(r.res.ok, `window ${size}`).toBe(false);
      expect(r.res.error?.message, `window ${size}`).toMatch(/frame/i);
    }
  });

  it.each(variants)('%s blocks the gate', async (_name, data) => {
    await expectBlocked('models/framed.pkl', data, 'malformed', /frame/i);
  });

  it('frames that match their content exactly pass, also with large bytes written between frames', async () => {
    const first = ops((b) => b.global('collections', 'OrderedDict').emptyTuple().reduce().memoize().str('w').memoize());
    const big = Buffer.concat([Buffer.from([0x8e]), Buffer.alloc(8), Buffer.alloc(70_000, 1)]);
    big.writeBigUInt64LE(70_000n, 1);
    const data = framed([{ ops: first }, { ops: big, frame: false }, { ops: latin1('s.') }, { ops: Buffer.alloc(0) }].slice(0, 3));
    for (const size of [1 << 20, 64, 7]) expect((await machine(data, size)).res.ok, `window ${size}`).toBe(true);
    const empty = framed([{ ops: Buffer.alloc(0) }, { ops: latin1('N.') }]);
    expect((await machine(empty)).res.ok).toBe(true);
    await expectPasses('models/framed.pkl', data);
  });

  it('joblib array bytes must start where a frame ends, since joblib reads them from the file past the frame', async () => {
    const wrapper = joblibWrapper(p(), 2, { aligned: false }).build_();
    const array = Buffer.from(new Float64Array([0.5, 0.25]).buffer);
    const good = framed([{ ops: wrapper }, { ops: array, frame: false }, { ops: latin1('.'), frame: false }]);
    expect((await machine(good)).res.ok).toBe(true);
    expect(await scan(good)).toEqual([]);
    const bad = framed([{ ops: Buffer.concat([wrapper, array, latin1('.')]) }]);
    expect((await machine(bad)).res.error?.message).toMatch(/BUILD at byte \d+ is followed by joblib array bytes 17 bytes before the end of its frame/);
    await expectBlocked('models/clf.joblib', bad, 'malformed', /frame/);
  });
});

describe("item 17: PyTorch's ('module', cls, …) persistent ids of a legacy whole-model save", () => {
  const net = (b: P) => b.global('mymodels', 'Net');
  const linear = (b: P) => b.global('torch.nn.modules.linear', 'Linear');

  it('resolves to the class it names: unknown classes are warnings, never dynamic-import errors', async () => {
    const data = legacyTorchFile(legacyWholeModel(net, [['fc1', linear], ['fc2', linear], ['act', (b) => b.global('torch.nn.modules.activation', 'ReLU')]]));
    const issues = await scan(data);
    expect(codes(issues)).toEqual(['unknown-global', 'unknown-global', 'unknown-global']);
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
  });

  it('a legacy checkpoint of allow-listed classes passes the gate', async () => {
    const data = legacyTorchFile(legacyWholeModel(net, [['fc1', linear]]));
    const policy = 'version: 1\nextends: [mlgate:recommended]\nrules:\n  model-file-safety:\n    allow-globals: [mymodels.Net, torch.nn.modules.linear.Linear]\n';
    const r = await expectPasses('models/whole.pt', data, policy);
    expect(fileFindings(r, 'models/whole.pt')).toEqual([]);
  });

  it('a dangerous class in the persistent id is an error that blocks the gate', async () => {
    const data = legacyTorchFile(legacyWholeModel((b) => b.global('subprocess', 'Popen')));
    await expectBlocked('models/whole.pt', data, 'dangerous-global', /subprocess\.Popen/);
  });

  it('a persistent id whose class is computed stays a dynamic-import error', async () => {
    const computed = (b: P) => b.global('collections', 'OrderedDict').emptyTuple().reduce();
    const data = legacyTorchFile(legacyWholeModel(computed));
    const issues = await scan(data);
    expect(codes(issues)).toContain('dynamic-import');
    expect(issues.find((i) => i.code === 'dynamic-import')?.message).toMatch(/NEWOBJ at byte \d+ calls an object mlgate cannot see into \(a persistent id, .*\) instead of a global/);
    await expectBlocked('models/whole.pt', data, 'dynamic-import');
  });

  it('other persistent ids (a storage of a zip checkpoint) stay opaque', async () => {
    const called = p().proto(2).mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).tuple().binpersid().emptyTuple().reduce().stop().build_();
    const r = await machine(called);
    expect(r.issues.map((i) => i.kind)).toEqual(['dynamic-import']);
    expect(await scan(torchDataPkl())).toEqual([]);
  });
});

describe('item 18: messages read as English', () => {
  it('describes every kind of value with its article', () => {
    const kinds: Value[] = [OPAQUE, { k: 'none' }, { k: 'bool' }, { k: 'float' }, { k: 'bigint' }, { k: 'lstr' }, { k: 'bytes' }, { k: 'tuple', items: null }, { k: 'list', items: null }, { k: 'dict', entries: null }, { k: 'set' }, 7];
    for (const v of kinds) expect(describeValue(v)).toMatch(/^(None|an? [a-z])/);
    expect(describeValue(OPAQUE)).toMatch(/^an object mlgate cannot see into/);
    for (const v of kinds) expect(describeValue(v)).not.toMatch(/\ba [aeiou]/);
  });

  it('the call of an opaque object reads well, and says what to do', async () => {
    const issues = await scan(p().proto(2).nextBuffer().emptyTuple().reduce().stop().build_());
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/^REDUCE at byte 4 calls an object mlgate cannot see into \(.*\) instead of a global the pickle names, so what runs is computed at load time and cannot be checked; .*safetensors$/);
    expect(issues[0]!.message).not.toMatch(/\ba opaque\b/);
  });

  it('a truncated payload is "the 8-byte payload", whatever its length', async () => {
    const r = await machine(Buffer.concat([latin1('\x80\x03B'), u32(8), latin1('abcdef')]));
    expect(r.res.error?.message).toMatch(/^the stream ends inside the 8-byte payload that starts at byte 7 \(truncated pickle\)$/);
  });

  it('no message of the machine uses "a" before a vowel sound', async () => {
    const files = [
      p().proto(2).nextBuffer().emptyTuple().reduce().stop().build_(),
      p().proto(4).none().float().stackGlobal().stop().build_(),
      p().proto(4).emptyList().str('x').stackGlobal().stop().build_(),
      p().proto(2).ext1(3).stop().build_(),
      p().proto(2).global('torch', 'nn').emptyDict().build().stop().build_(),
      latin1('NI08\n.'),
      p().proto(2).reduce().stop().build_(),
    ];
    for (const f of files) for (const i of await scan(f)) expect(i.message, i.message).not.toMatch(/\ba (opaque|int|inst|object|unknown|empty)\b/);
  });
});
