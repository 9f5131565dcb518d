// The pickle machine against CPython's own readers of the same bytes:
// pickletools.genops for the opcode stream, and int()/float() (the
// PyLong_FromString and PyOS_string_to_double that _pickle.c calls) for the
// numbers of text arguments. Nothing is unpickled: genops only decodes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFloatArg, parseIntArg, parseLongArg, parseMemoIndexArg } from '../src/formats/pickle/numbers.js';
import { opcodeName } from '../src/formats/pickle/opcodes.js';
import { PickleMachine } from '../src/formats/pickle/scanner.js';
import { bufferAccess, rangeSource } from '../src/formats/pickle/source.js';
import { Window } from '../src/formats/pickle/window.js';
import { pythonBatch } from './helpers/python-stdlib.js';
import { legacyWholeModel, p, torchDataPkl } from './pickle-fixtures.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * How _pickle.c reads the numbers of INT, LONG, GET/PUT and FLOAT, written
 * over CPython's int() and float(): int(s, 0) and int(s, 10) are the
 * PyLong_FromString it calls, and float() without whitespace or underscores
 * is PyOS_string_to_double except that it turns overflow into inf. Only
 * strtol's C octal and hex are written out, as a regular expression.
 */
const ORACLE = `
import codecs, re, io, pickletools
STRTOL = re.compile(rb'[ \\t\\n\\v\\f\\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)')
def pylong(s, base):
    try:
        return str(int(s, base))
    except ValueError:
        return None
def c_int(line):
    if line == b'':
        return None
    s = line.split(b'\\0')[0]
    if s == b'':
        return '0'
    m = STRTOL.match(s)
    if m and m.end() == len(s):
        d = m.group(2)
        v = int(d, 16) if d[:2] in (b'0x', b'0X') else int(d, 8) if d.startswith(b'0') else int(d)
        v = -v if m.group(1) == b'-' else v
        if -2**63 <= v < 2**63:
            return str(v)
    return pylong(s, 0)
def c_long(line):
    if line == b'':
        return None
    s = line[:-1] if line.endswith(b'L') else line
    return pylong(s.split(b'\\0')[0], 0)
def c_index(line):
    return None if line == b'' else pylong(line.split(b'\\0')[0], 10)
def c_float(line):
    s = line.split(b'\\0')[0]
    if line == b'' or re.search(rb'[\\s_]', s):
        return False
    try:
        v = float(s)
    except ValueError:
        return False
    return not (v in (float('inf'), float('-inf')) and b'inf' not in s.lower())
C_TEXT = {b'I': c_int, b'L': c_long, b'g': c_index, b'p': c_index}
def c_names(data, at):
    lines = data[at + 1:].split(b'\\n', 2)
    return lines[:2] if len(lines) == 3 else None
def c_accepts(data, at):
    op = data[at:at + 1]
    nl = data.find(b'\\n', at + 1)
    if nl < 0:
        return False
    line = data[at + 1:nl]
    if op == b'F':
        return c_float(line)
    if op == b'S':
        # genops decodes STRING as ASCII; the C unpickler uses the encoding its caller chose (latin1, bytes, utf-8)
        if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in (b"'", b'"'):
            return False
        try:
            codecs.escape_decode(line[1:-1])
            return True
        except Exception:
            return False
    if op in (b'c', b'i'):
        # genops undoes backslash escapes and wants ASCII; _pickle.c takes the lines as UTF-8 (GLOBAL) or ASCII (INST)
        names = c_names(data, at)
        try:
            return names is not None and all(n and n.decode('utf-8' if op == b'c' else 'ascii') for n in names)
        except UnicodeDecodeError:
            return False
    return op in C_TEXT and C_TEXT[op](line) is not None
def c_arg(data, at, arg):
    names = c_names(data, at)
    if names is None or all(n.isascii() and b'\\\\' not in n for n in names):
        return arg
    return (names[0] + b' ' + names[1]).decode('utf-8', 'replace')
`;

interface Genops {
  ops: Array<[number, string, string | null]>;
  /** Where genops raised: the offset of the opcode it could not read, and whether _pickle.c reads that text argument. */
  err: { at: number; type: string; cAccepts: boolean } | null;
}

function genops(samples: Buffer[]): Genops[] {
  return pythonBatch<Genops>(
    `${ORACLE}
for data in samples:
    f = io.BytesIO(data)
    ops, err, nxt = [], None, 0
    try:
        for op, arg, pos in pickletools.genops(f):
            ops.append([pos, op.name, c_arg(data, pos, arg) if op.name in ('GLOBAL', 'INST') else None])
            nxt = f.tell()
    except Exception as e:
        err = {'at': nxt, 'type': type(e).__name__, 'cAccepts': c_accepts(data, nxt)}
    out.append({'ops': ops, 'err': err})
`,
    samples,
  );
}

interface Trace {
  ok: boolean;
  /** Opcodes the machine started, in order: [offset, name]. When !ok the last one is where it failed. */
  ops: Array<[number, string]>;
  imports: Map<number, string>;
  error?: string;
}

async function trace(data: Buffer, windowSize: number): Promise<Trace> {
  const ops: Array<[number, string]> = [];
  const imports = new Map<number, string>();
  const m = new PickleMachine(new Window(rangeSource(bufferAccess(data), 0, data.length), windowSize), {
    onImport: (r) => imports.set(r.offset, `${r.module} ${r.name}`),
    onIssue: () => {},
    onOpcode: (offset, op) => ops.push([offset, opcodeName(op) ?? `0x${op.toString(16)}`]),
  });
  const r = await m.parse();
  return { ok: r.ok, ops, imports, error: r.error?.message };
}

const WINDOWS = [1 << 20, 64, 9, 5];

/**
 * The agreement the issue asks for, sample by sample: every opcode genops
 * yields before the machine stops, the machine saw at the same offset (and,
 * for GLOBAL and INST, with the same module and name); where genops raises,
 * the machine fails too, unless _pickle.c reads that argument (genops reads
 * INT and LONG in base 10 where the C unpickler takes C and Python prefixes).
 */
function agree(data: Buffer, g: Genops, t: Trace, strict: boolean): string | undefined {
  const done = t.ok ? t.ops : t.ops.slice(0, -1);
  const where = `${data.toString('hex').slice(0, 400)}`;
  if (strict && !t.ok) return `machine refused a valid pickle: ${t.error} in ${where}`;
  for (let i = 0; i < done.length; i++) {
    const want = g.ops[i];
    if (!want) {
      // Past genops' failure: only a text argument _pickle.c reads may let the machine go on.
      if (g.err && g.err.cAccepts && done.some(([o]) => o === g.err!.at)) return undefined;
      return `machine read ${done[i]![1]} at ${done[i]![0]} after genops stopped (${g.err?.type}) in ${where}`;
    }
    if (want[0] !== done[i]![0] || want[1] !== done[i]![1]) return `opcode ${i}: genops ${want[1]}@${want[0]}, machine ${done[i]![1]}@${done[i]![0]} in ${where}`;
    if (want[2] !== null && t.imports.get(want[0]) !== want[2]) return `${want[1]} at ${want[0]}: genops ${JSON.stringify(want[2])}, machine ${JSON.stringify(t.imports.get(want[0]))}`;
  }
  if (t.ok) {
    if (g.err) return `machine accepted what genops refused at ${g.err.at} (${g.err.type}) in ${where}`;
    if (done.length !== g.ops.length) return `machine read ${done.length} opcodes, genops ${g.ops.length} in ${where}`;
    return undefined;
  }
  // The machine stopped at an opcode genops read (a check genops does not make: stack, memo, frames), or where genops stopped too.
  const failedAt = t.ops[t.ops.length - 1]?.[0] ?? 0;
  const next = g.ops[done.length];
  if (next ? next[0] === failedAt : g.err !== null) return undefined;
  return `machine failed at ${failedAt} (${t.error}), genops read on in ${where}`;
}

// ---- a generator of valid pickles, opcode by opcode -------------------------------------------

type Node =
  | { t: 'leaf'; op: Buffer }
  | { t: 'seq'; kids: Node[]; pre: Buffer[]; post: Buffer[] }
  | { t: 'memo'; kid: Node; how: number; text: number }
  | { t: 'get'; pick: number; how: number; text: number }
  | { t: 'dup'; kid: Node }
  | { t: 'popmark'; junk: Node[]; kid: Node };

const ascii = (s: string) => latin1(s);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/**
 * INT texts: whitespace, signs and underscores (both genops and _pickle.c read
 * them), and C's hex and octal prefixes (only _pickle.c does: genops stops there,
 * and the comparison with it ends, once the machine has read past them).
 */
const intText = fc.tuple(fc.integer({ min: -100000, max: 100000 }), fc.integer({ min: 0, max: 8 })).map(([n, style]) => {
  const s = String(n);
  const sign = n < 0 ? '-' : '';
  if (style === 6) return `${sign}0x${Math.abs(n).toString(16)}`;
  if (style === 7 && n !== 0) return `${sign}0${Math.abs(n).toString(8)}`;
  if (style === 8) return `${sign}0o${Math.abs(n).toString(8)}`;
  if (style === 1) return ` ${s}`;
  if (style === 2) return `${s} `;
  if (style === 3) return n >= 0 ? `+${s}` : s;
  if (style === 4 && Math.abs(n) >= 10) return s.replace(/(\d)(\d)$/, '$1_$2');
  if (style === 5 && (n === 0 || n === 1)) return `0${n}`;
  return s;
});
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,6}){0,2}$/);
const textStr = fc.stringMatching(/^[ -&(-[\]-~]{0,12}$/); // printable ASCII without quote or backslash
const binStr = fc.string({ maxLength: 20 });
const binBytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

const leaf: fc.Arbitrary<Node> = fc.oneof(
  intText.map((s) => ascii(`I${s}\n`)),
  fc.tuple(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), fc.boolean()).map(([n, l]) => ascii(`L${n}${l ? 'L' : ''}\n`)),
  fc.constantFrom('1.5', '-0.25', '1e10', 'inf', '-inf', 'nan', '5.', '.5', '1E-5', '0').map((s) => ascii(`F${s}\n`)),
  fc.tuple(textStr, fc.constantFrom('', '\\x41', '\\n', "\\'", '\\\\', '\\101')).map(([s, e]) => ascii(`S'${s}${e}'\n`)),
  fc.tuple(textStr, fc.constantFrom('', '\\u00e9', '\\U0001f600', '\\\\u')).map(([s, e]) => ascii(`V${s}${e}\n`)),
  fc.integer({ min: 0, max: 255 }).map((n) => Buffer.from([0x4b, n])),
  fc.integer({ min: 0, max: 65535 }).map((n) => Buffer.from([0x4d, n & 0xff, n >> 8])),
  fc.integer().map((n) => Buffer.concat([ascii('J'), Buffer.from(new Int32Array([n]).buffer)])),
  fc.constant(Buffer.concat([ascii('G'), Buffer.alloc(8)])),
  fc.constantFrom(ascii('N'), Buffer.from([0x88]), Buffer.from([0x89])),
  fc.uint8Array({ maxLength: 9 }).map((a) => Buffer.from([0x8a, a.length, ...a])),
  binStr.map((s) => {
    const b = Buffer.from(s, 'utf8');
    return b.length < 256 ? Buffer.concat([Buffer.from([0x8c, b.length]), b]) : Buffer.concat([ascii('X'), u32(b.length), b]);
  }),
  binStr.map((s) => Buffer.concat([ascii('X'), u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')])),
  binStr.map((s) => Buffer.concat([Buffer.from([0x8d]), u64(Buffer.byteLength(s)), Buffer.from(s, 'utf8')])),
  binBytes.map((b) => Buffer.concat([Buffer.from([0x43, b.length]), b])),
  binBytes.map((b) => Buffer.concat([ascii('B'), u32(b.length), b])),
  binBytes.map((b) => Buffer.concat([Buffer.from([0x8e]), u64(b.length), b])),
  binBytes.map((b) => Buffer.concat([Buffer.from([0x96]), u64(b.length), b])),
  fc.stringMatching(/^[A-Za-z]{1,6}$/).map((s) => Buffer.concat([Buffer.from([0x55, s.length]), ascii(s)])),
  fc.tuple(name, name).map(([m, n]) => ascii(`c${m}\n${n}\n`)),
  fc.stringMatching(/^[a-z0-9]{0,8}$/).map((s) => ascii(`P${s}\n`)),
  fc.constant(Buffer.from([0x97])),
  fc.integer({ min: 1, max: 255 }).map((c) => Buffer.from([0x82, c])),
).map((op) => ({ t: 'leaf', op }) as Node);

const B = (...bytes: Array<number | string>) => bytes.map((b) => (typeof b === 'number' ? Buffer.from([b]) : ascii(b)));
const seq = (kids: Node[], pre: Buffer[], post: Buffer[]): Node => ({ t: 'seq', kids, pre, post });

const { node } = fc.letrec<{ node: Node }>((tie) => {
  const kid = tie('node');
  const kids = (max: number) => fc.array(kid, { maxLength: max });
  const global = fc.tuple(name, name).map(([m, n]) => ({ t: 'leaf', op: ascii(`c${m}\n${n}\n`) }) as Node);
  const tuple = fc.oneof(
    kids(3).map((k) => (k.length === 0 ? seq([], B(')'), []) : seq(k, [], B(0x84 + k.length)))),
    kids(4).map((k) => seq(k, B('('), B('t'))),
  );
  return {
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      tuple,
      kids(4).map((k) => seq(k, B('('), B('l'))),
      kids(3).map((k) => seq(k, B(']', '('), B('e'))),
      kid.map((k) => seq([k], B(']'), B('a'))),
      kids(2).map((k) => seq([...k, ...k].slice(0, k.length * 2), B('('), B('d'))),
      fc.tuple(kid, kid).map(([a, b]) => seq([a, b], B('}'), B('s'))),
      kids(2).map((k) => seq([...k, ...k], B('}', '('), B('u'))),
      kids(3).map((k) => seq(k, B(0x8f, '('), B(0x90))),
      kids(3).map((k) => seq(k, B('('), B(0x91))),
      fc.tuple(global, tuple).map(([g, a]) => seq([g, a], [], B('R'))),
      fc.tuple(global, tuple).map(([g, a]) => seq([g, a], [], B(0x81))),
      fc.tuple(global, tuple).map(([g, a]) => seq([g, a, { t: 'leaf', op: ascii('}') }], [], B(0x92))),
      fc.tuple(global, kids(2)).map(([g, a]) => seq([g, ...a], B('('), B('o'))),
      fc.tuple(name, name, kids(2)).map(([m, n, a]) => seq(a, B('('), [ascii(`i${m}\n${n}\n`)])),
      fc.tuple(name, name).map(([m, n]) => seq([], [Buffer.concat([Buffer.from([0x8c, m.length]), ascii(m)]), Buffer.concat([Buffer.from([0x8c, n.length]), ascii(n)])], B(0x93))),
      fc.tuple(kid, kid).map(([a, b]) => seq([a, b], [], B('b'))),
      kid.map((k) => seq([k], [], B('Q'))),
      kid.map((k) => seq([k], [], B(0x98))),
      fc.tuple(kid, fc.nat(4), fc.nat(3)).map(([k, how, text]) => ({ t: 'memo', kid: k, how, text }) as Node),
      fc.tuple(fc.nat(), fc.nat(3), fc.nat(3)).map(([pick, how, text]) => ({ t: 'get', pick, how, text }) as Node),
      kid.map((k) => ({ t: 'dup', kid: k }) as Node),
      fc.tuple(kids(2), kid).map(([junk, k]) => ({ t: 'popmark', junk, kid: k }) as Node),
    ),
  };
});

/** PUT and GET texts both genops and _pickle.c read. */
function indexText(i: number, style: number): string {
  return style === 1 ? ` ${i}` : style === 2 ? `${i} ` : style === 3 && i >= 10 ? String(i).replace(/(\d)(\d)$/, '$1_$2') : String(i);
}

/** Writes a node as opcodes, one buffer per opcode, keeping the memo as the unpickler would. */
function emit(n: Node, out: Buffer[], memo: number[]): void {
  switch (n.t) {
    case 'leaf':
      out.push(n.op);
      return;
    case 'seq':
      out.push(...n.pre);
      for (const k of n.kids) emit(k, out, memo);
      out.push(...n.post);
      return;
    case 'dup':
      emit(n.kid, out, memo);
      out.push(ascii('2'), ascii('0'));
      return;
    case 'popmark':
      out.push(ascii('('));
      for (const k of n.junk) emit(k, out, memo);
      out.push(ascii('1'));
      emit(n.kid, out, memo);
      return;
    case 'memo': {
      emit(n.kid, out, memo);
      const idx = n.how === 4 ? new Set(memo).size : 300 * (n.how === 3 ? 1 : 0) + memo.length * 3;
      if (n.how === 4) out.push(Buffer.from([0x94]));
      else if (n.how === 0) out.push(ascii(`p${indexText(idx, n.text)}\n`));
      else if (idx < 256 && n.how === 1) out.push(Buffer.from([0x71, idx]));
      else out.push(Buffer.concat([ascii('r'), u32(idx)]));
      memo.push(idx);
      return;
    }
    case 'get': {
      if (memo.length === 0) {
        out.push(ascii('N'));
        return;
      }
      const idx = memo[n.pick % memo.length]!;
      if (n.how === 0) out.push(ascii(`g${indexText(idx, n.text)}\n`));
      else if (idx < 256 && n.how === 1) out.push(Buffer.from([0x68, idx]));
      else out.push(Buffer.concat([ascii('j'), u32(idx)]));
      return;
    }
  }
}

/** A whole pickle: PROTO (or none), the value, STOP; the opcodes after PROTO grouped into frames that match their content exactly. */
const validPickle = fc.record({ root: node, proto: fc.integer({ min: -1, max: 5 }), groups: fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.boolean()), { maxLength: 8 }) }).map(({ root, proto, groups }) => {
  const ops: Buffer[] = [];
  emit(root, ops, []);
  ops.push(ascii('.'));
  const parts: Buffer[] = proto >= 0 ? [Buffer.from([0x80, proto])] : [];
  let i = 0;
  for (const [size, framed] of groups) {
    const group = Buffer.concat(ops.slice(i, i + size));
    i += size;
    if (group.length === 0) break;
    if (framed && proto >= 4) parts.push(Buffer.from([0x95]), u64(group.length));
    parts.push(group);
  }
  parts.push(...ops.slice(i));
  return Buffer.concat(parts);
});

const mutate = fc.tuple(validPickle, fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 })).map(([b, edits]) => {
  let bytes = [...b];
  for (const e of edits) {
    const i = e.at % Math.max(1, bytes.length);
    if (e.kind === 'flip') bytes[i] = e.byte;
    else if (e.kind === 'insert') bytes.splice(i, 0, e.byte);
    else if (e.kind === 'delete') bytes.splice(i, 1);
    else bytes = bytes.slice(0, i);
  }
  return Buffer.from(bytes);
});

async function compare(samples: Buffer[], strict: boolean, seed?: number): Promise<void> {
  const answers = genops(samples);
  const problems: string[] = [];
  for (let i = 0; i < samples.length; i++) {
    const t = await trace(samples[i]!, WINDOWS[i % WINDOWS.length]!);
    const bad = agree(samples[i]!, answers[i]!, t, strict);
    if (bad) problems.push(bad);
  }
  expect(problems.slice(0, 5), `seed ${seed}`).toEqual([]);
}

describe('differential: the machine reads the opcodes pickletools.genops reads', () => {
  it('regression pickles of issue 19 and the fixtures', async () => {
    const samples = [
      torchDataPkl(),
      legacyWholeModel((b) => b.global('mymodels', 'Net'), [['fc', (b) => b.global('torch.nn.modules.linear', 'Linear')]]),
      latin1("I16\n0Np 1\n0ccollections\nOrderedDict\n(tR."),
      latin1("cos\nsystem\n(S'id'\ntR."),
      latin1("(lp0\nI1\naI01\naL12345678901234567890L\naF1.5\naVh\\u00e9llo\np1\nag1\na."),
      p().proto(4).frame(40).str('collections').memoize().str('OrderedDict').memoize().stackGlobal().memoize().emptyTuple().reduce().memoize().get(0).get(1).stackGlobal().pop().stop().build_(),
      // The straddling frames genops reads straight through: the machine stops at the crossing opcode.
      Buffer.concat([Buffer.from([0x80, 4, 0x95, 2, 0, 0, 0, 0, 0, 0, 0x42]), Buffer.from([7, 1, 0, 0]), Buffer.alloc(263, 0x4e), latin1('0N.')]),
      Buffer.concat([Buffer.from([0x80, 4, 0x95, 3, 0, 0, 0, 0, 0, 0]), latin1('I12345\n0N.')]),
      // Forms _pickle.c reads and genops does not: the machine goes on past them.
      latin1('I0x10\n0cos\nsystem\n(S\'id\'\ntR.'),
      latin1('I017\n0L0x1fL\n0N.'),
    ];
    await compare(samples, false);
  });

  it('generated valid pickles of every protocol, framed and not: the machine reads them whole, as genops does up to any form only _pickle.c reads', async () => {
    const seed = Date.now() % 1_000_000;
    await compare(fc.sample(validPickle, { numRuns: 400, seed }), true, seed);
  });

  it('generated pickles with flipped, inserted, deleted and cut bytes', async () => {
    const seed = Date.now() % 1_000_000;
    await compare(fc.sample(mutate, { numRuns: 600, seed }), false, seed);
  });
});

describe('differential: numbers of text arguments against int() and float()', () => {
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEFxXoObB_+- \t\x0b\x0c\r\x00L.eEinfaINFAty'.split(''));
  const lines = (n: number, seed: number) =>
    fc.sample(fc.oneof(fc.array(alphabet, { maxLength: 8 }).map((a) => a.join('')), fc.constantFrom('0x10', '017', '0o17', '0b101', '1_000', '9223372036854775808', '0777777777777777777777777', '1e500', '-Infinity', '\x00', '12\x00ab')), { numRuns: n, seed });

  it('INT, LONG, GET/PUT and FLOAT accept what _pickle.c accepts, with the same value', async () => {
    const seed = Date.now() % 1_000_000;
    const samples = lines(3000, seed).map(latin1);
    const want = pythonBatch<[string | null, string | null, string | null, boolean]>(`${ORACLE}
for line in samples:
    out.append([c_int(line), c_long(line), c_index(line), c_float(line)])
`, samples);
    const problems: string[] = [];
    samples.forEach((b, i) => {
      const got = [parseIntArg(b, 0, b.length)?.value.toString() ?? null, parseLongArg(b, 0, b.length)?.toString() ?? null, parseMemoIndexArg(b, 0, b.length)?.toString() ?? null, isFloatArg(b, 0, b.length)];
      if (JSON.stringify(got) !== JSON.stringify(want[i])) problems.push(`${JSON.stringify(b.toString('latin1'))}: machine ${JSON.stringify(got)}, CPython ${JSON.stringify(want[i])}`);
    });
    expect(problems.slice(0, 10), `seed ${seed}`).toEqual([]);
  });
});
