// .npy headers read by mlgate and by CPython's own ast.literal_eval (plus numpy's
// _filter_header, through the tokenize lexer): the same value or both refuse, and
// mlgate sees an object dtype wherever numpy's rules, mirrored in a few lines of
// stdlib Python, would. Nothing is executed or unpickled; numpy is not needed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NpyError, parseNpyHeader } from '../src/formats/npy.js';
import { PyLiteralError, parsePythonLiteral, type PyLiteral } from '../src/formats/python-literal.js';
import { pythonBatch } from './helpers/python-stdlib.js';

/** Each sample: the version byte, then the header bytes as numpy reads them. */
const PYTHON = String.raw`
import ast, io, re, struct, tokenize

def filter_header(s):
    # numpy.lib.format._filter_header: drop a NAME "L" right after a NUMBER.
    tokens = []
    last_number = False
    for tok in tokenize.generate_tokens(io.StringIO(s).readline):
        if last_number and tok[0] == tokenize.NAME and tok[1] == 'L':
            continue
        tokens.append(tok)
        last_number = tok[0] == tokenize.NUMBER
    return tokenize.untokenize(tokens)

def read(major, text):
    try:
        return ast.literal_eval(text)
    except SyntaxError:
        if major > 2:
            raise
        return ast.literal_eval(filter_header(text))

def enc(v):
    if v is None: return ['none']
    if v is Ellipsis: return ['ellipsis']
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['float', struct.pack('>d', v).hex()]
    if isinstance(v, complex): return ['complex', struct.pack('>d', v.real).hex(), struct.pack('>d', v.imag).hex()]
    if isinstance(v, str): return ['str', v.encode('utf-16-le', 'surrogatepass').hex()]
    if isinstance(v, bytes): return ['bytes', v.hex()]
    if isinstance(v, tuple): return ['tuple', [enc(x) for x in v]]
    if isinstance(v, list): return ['list', [enc(x) for x in v]]
    if isinstance(v, set): return ['set', sorted(json.dumps(enc(x), separators=(',', ':')) for x in v)]
    if isinstance(v, dict): return ['dict', [[enc(k), enc(x)] for k, x in v.items()]]
    raise TypeError(type(v))

# numpy.dtype(str): the spellings of object, comma-separated specs, sub-array prefixes.
def split_commas(s):
    parts, depth, cur = [], 0, ''
    for c in s:
        if c == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        depth += (c in '[(') - (c in '])')
        cur += c
    return parts + [cur]

def spec_object(s):
    if isinstance(s, bytes):
        s = s.decode('latin1')
    if not isinstance(s, str):
        return descr_object(s)
    s = s.strip()
    if ',' in s or re.match(r'^[<>|=]?(\(|[0-9])', s):
        return any(spec_object(re.sub(r'^[<>|=]?(\([0-9, ]*\)|[0-9]+)', '', p)) for p in split_commas(s) if p.strip())
    s = re.sub(r'^[<>|=]', '', s)
    return s in ('object', 'object_', 'O') or re.fullmatch(r'O[0-9]+', s) is not None

def shape_or_dtype_object(x):
    # numpy.dtype((base, x)): x is a shape when it is an int or a tuple of ints, else a dtype.
    if isinstance(x, int) or (isinstance(x, tuple) and all(isinstance(i, int) for i in x)):
        return False
    return spec_object(x)

def descr_object(d):
    # numpy.lib.format.descr_to_dtype
    if isinstance(d, str):
        return spec_object(d)
    if isinstance(d, tuple):
        return descr_object(d[0]) or shape_or_dtype_object(d[1])
    found = False
    for field in d:
        if len(field) == 2:
            name, spec = field
            found = found or descr_object(spec)
        else:
            name, spec, shape = field
            found = found or descr_object(spec) or shape_or_dtype_object(shape)
    return found

def header_verdict(d):
    if not isinstance(d, dict) or d.keys() != {'descr', 'fortran_order', 'shape'}:
        return 'invalid'
    if not isinstance(d['shape'], tuple) or not all(isinstance(x, int) for x in d['shape']):
        return 'invalid'
    if not isinstance(d['fortran_order'], bool):
        return 'invalid'
    try:
        return 'object' if descr_object(d['descr']) else 'plain'
    except Exception:
        return 'descr-error'

for s in samples:
    major = s[0]
    try:
        text = s[1:].decode('utf8' if major == 3 else 'latin1')
        v = read(major, text)
        out.append({'value': enc(v), 'verdict': header_verdict(v)})
    except Exception as e:
        out.append({'value': None, 'verdict': 'invalid', 'error': type(e).__name__})
`;

interface PyAnswer {
  value: unknown;
  verdict: 'invalid' | 'object' | 'plain' | 'descr-error';
  error?: string;
}

function hex(n: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
}

/** The same encoding as the Python side's `enc`. */
function enc(v: PyLiteral): unknown {
  switch (v.k) {
    case 'none':
    case 'ellipsis':
      return [v.k];
    case 'bool':
      return ['bool', v.v];
    case 'int':
      return ['int', v.v.toString()];
    case 'float':
      return ['float', hex(v.v)];
    case 'complex':
      return ['complex', hex(v.re), hex(v.im)];
    case 'str':
      return ['str', Buffer.from(v.v, 'utf16le').toString('hex')];
    case 'bytes':
      return ['bytes', Buffer.from(v.v).toString('hex')];
    case 'tuple':
    case 'list':
      return [v.k, v.items.map(enc)];
    case 'set':
      return ['set', v.items.map((x) => JSON.stringify(enc(x))).sort()];
    case 'dict':
      return ['dict', v.keys.map((k, i) => [enc(k), enc(v.values[i]!)])];
  }
}

function headerBytes(major: number, text: string): Buffer {
  return Buffer.concat([Buffer.from([major]), Buffer.from(text, major === 3 ? 'utf8' : 'latin1')]);
}

function npyFile(major: number, text: string): Buffer {
  const body = Buffer.from(text, major === 3 ? 'utf8' : 'latin1');
  const prefix = Buffer.alloc(major === 1 ? 10 : 12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(prefix);
  if (major === 1) prefix.writeUInt16LE(body.length, 8);
  else prefix.writeUInt32LE(body.length, 8);
  return Buffer.concat([prefix, body]);
}

function mine(major: number, text: string): { value: unknown; header: 'invalid' | { hasObject: boolean } } {
  let value: unknown = null;
  try {
    value = enc(parsePythonLiteral(text, { filterHeader: major <= 2 }));
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
  }
  try {
    return { value, header: { hasObject: parseNpyHeader(npyFile(major, text)).hasObject } };
  } catch (e) {
    if (!(e instanceof NpyError)) throw e;
    return { value, header: 'invalid' };
  }
}

// --- generators of header texts

const OBJECT_SPECS = ['O', '|O', '<O', '>O', '=O', 'O8', 'O4', 'object', 'object_', 'f8,O', '(2,)O', '3O', '<f8, |O', '>(2,3)O8'];
const PLAIN_SPECS = ['<f8', '<f4', '|b1', '|u1', '<i8', '>i4', '|S10', '<U8', '|V16', '<M8[ns]', '<m8[s]', 'float64', 'int32', 'bool', 'complex128', '<c16', 'd', 'S3'];
const WS = fc.constantFrom('', ' ', '  ', '\t', '\n', ' \n  ', ' # note\n', '\\\n', '\r\n', '\f');
const TOP_WS = fc.constantFrom('', ' ', '  ', '\t');

/** A Python string literal spelling `s`: quotes, prefixes, escapes of every kind, implicit concatenation. */
function strLiteral(s: string): fc.Arbitrary<string> {
  const char = (c: string): fc.Arbitrary<string> => {
    const cp = c.codePointAt(0)!;
    const forms = [c, `\\x${cp.toString(16).padStart(2, '0')}`, `\\u${cp.toString(16).padStart(4, '0')}`, `\\U${cp.toString(16).padStart(8, '0')}`, `\\${cp.toString(8)}`, `\\${cp.toString(8).padStart(3, '0')}`];
    if (c === "'" || c === '"' || c === '\\') forms[0] = `\\${c}`;
    return fc.constantFrom(...forms);
  };
  const chars = [...s];
  return fc
    .tuple(
      fc.tuple(...chars.map(char)),
      fc.array(fc.integer({ min: 0, max: chars.length }), { maxLength: 2 }),
      fc.constantFrom("'", '"', "'''", '"""'),
      fc.constantFrom('', 'u', 'U', 'r'),
      fc.constantFrom(' ', '', '  ', '\t'),
    )
    .map(([parts, cuts, q, prefix, gap]) => {
      const bounds = [...new Set([0, ...cuts, chars.length])].sort((a, b) => a - b);
      const pieces: string[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) pieces.push(parts.slice(bounds[i], bounds[i + 1]).join(''));
      if (pieces.length === 0) pieces.push('');
      return pieces.map((p) => `${prefix === 'r' && p.includes('\\') ? '' : prefix}${q}${p}${q}`).join(gap);
    });
}

const spec = fc.constantFrom(...OBJECT_SPECS, ...PLAIN_SPECS).chain(strLiteral);
const intLit = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('', '', 'L', ' L', 'hex', 'under')).map(([n, form]) => {
  if (form === 'hex') return `0x${n.toString(16)}`;
  if (form === 'under') return n.toLocaleString('en').replace(/,/g, '_');
  return `${n}${form}`;
});
function tupleOf(items: fc.Arbitrary<string>[], ws: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(fc.tuple(...items), ws, fc.boolean()).map(([xs, w, trailing]) => `(${xs.join(`,${w}`)}${trailing || xs.length === 1 ? ',' : ''})`);
}
const shape = fc.integer({ min: 0, max: 3 }).chain((n) => tupleOf(Array.from({ length: n }, () => intLit), WS));
const field: fc.Arbitrary<string> = fc.tuple(fc.constantFrom('a', 'b', '', 'x y').chain(strLiteral), spec, fc.option(shape, { nil: undefined }), WS).map(([name, s, sh, w]) => `(${name},${w}${s}${sh ? `,${w}${sh}` : ''})`);
const fieldList = fc.tuple(fc.array(field, { minLength: 1, maxLength: 3 }), WS, fc.boolean()).map(([fs, w, trailing]) => `[${w}${fs.join(`,${w}`)}${trailing ? ',' : ''}${w}]`);
const descr = fc.oneof({ weight: 3, arbitrary: spec }, { weight: 2, arbitrary: fieldList }, { weight: 1, arbitrary: fc.tuple(spec, shape).map(([s, sh]) => `(${s}, ${sh})`) });

const header = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom('descr', 'descr', 'fortran_order', 'shape', 'extra'), WS, WS), { minLength: 2, maxLength: 5 }),
    descr,
    descr,
    fc.constantFrom('False', 'True', '0', 'None'),
    shape,
    fc.boolean(),
    TOP_WS,
    fc.constantFrom('\n', ' \n', '', '\n\n'),
  )
  .chain(([keys, d1, d2, fortran, sh, trailing, lead, tail]) => {
    let descrSeen = 0;
    const entries = keys.map(([k, w1, w2]) => {
      const value = k === 'descr' ? (descrSeen++ === 0 ? d1 : d2) : k === 'fortran_order' ? fortran : k === 'shape' ? sh : '1';
      return fc.constant(`${w1}'${k}':${w2}${value}`);
    });
    return fc.tuple(...entries).map((es) => `${lead}{${es.join(',')}${trailing ? ',' : ''}}${tail}`);
  });
/** A header with every required key, once each, in numpy's order: the usual case, most samples valid. */
const wellFormed = fc.tuple(descr, fc.constantFrom('False', 'True'), shape, WS, fc.boolean()).map(([d, f, s, w, trailing]) => `{'descr':${w}${d}, 'fortran_order': ${f},${w}'shape': ${s}${trailing ? ', ' : ''}}${' '.repeat(5)}\n`);
/** Random damage: a character dropped, doubled or replaced by one from Python's syntax. */
const damaged = fc.tuple(wellFormed, fc.nat(), fc.constantFrom('drop', 'double', ...["'", '"', '\\', '(', ')', ',', ':', '#', '\n', 'L', '0', 'b', 'x', '{', '}'])).map(([t, at, how]) => {
  const i = at % Math.max(1, t.length);
  return how === 'drop' ? t.slice(0, i) + t.slice(i + 1) : how === 'double' ? t.slice(0, i) + t[i] + t.slice(i) : t.slice(0, i) + how + t.slice(i + 1);
});

/** Any Python literal (and near-literals Python refuses): numbers of every spelling, escapes, prefixes, containers, equal keys of different types. */
const NUMBERS = ['0', '00', '007', '7', '1_000', '1__0', '0x_1f', '0XFF', '0o17', '0b101', '0b12', '1.5', '.5', '5.', '1e3', '1E-3', '1_0.0_1', '1e999', '007.5', '2j', '1.5J', '-1', '+1', '- 1', '--1', '-(1)', '-(-1)', '1+2j', '-1.5-2j', '1j+1', '1+-2j', '-0.0', '-0.0+0j', '1-0j', '3L', '1e', '1_'];
const ESCAPES = ['\\n', '\\t', '\\\\', "\\'", '\\"', '\\x41', '\\x4', '\\101', '\\0', '\\777', '\\8', '\\q', '\\u00e9', '\\ud83d', '\\U0001F600', '\\U00110000', '\\a\\b\\f\\v\\r', '\\\n', 'plain', 'é', '"', "'"];
const PREFIXES = ['', '', 'r', 'R', 'u', 'U', 'b', 'B', 'br', 'Rb', 'f', 'ur'];
const stringAtom = fc
  .tuple(fc.constantFrom(...PREFIXES), fc.constantFrom("'", '"', "'''"), fc.array(fc.constantFrom(...ESCAPES), { maxLength: 3 }))
  .map(([pre, q, parts]) => `${pre}${q}${parts.map((x) => (q.startsWith(x) ? `\\${x}` : x)).join('')}${q}`);
const KEYS = ['1', '1.0', 'True', "'1'", '(1, 2)', '[1]', "b'1'", '-0.0', '0', 'False', '1+0j', '...', 'None', '{1}'];
const { literal } = fc.letrec<{ literal: string }>((tie) => ({
  literal: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...NUMBERS, 'True', 'False', 'None', '...', 'set()', 'set(1)', 'Ellipsis', 'x'),
    stringAtom,
    fc.tuple(stringAtom, fc.constantFrom(' ', '', '\t', '\\\n'), stringAtom).map(([a, w, b]) => `${a}${w}${b}`),
    fc.tuple(fc.array(tie('literal'), { maxLength: 3 }), WS, fc.boolean()).map(([xs, w, t]) => `(${xs.join(`,${w}`)}${t || xs.length === 1 ? ',' : ''})`),
    fc.tuple(fc.array(tie('literal'), { maxLength: 3 }), WS, fc.boolean()).map(([xs, w, t]) => `[${xs.join(`,${w}`)}${t && xs.length ? ',' : ''}]`),
    fc.tuple(fc.array(tie('literal'), { minLength: 1, maxLength: 3 }), WS).map(([xs, w]) => `{${xs.join(`,${w}`)}}`),
    fc
      .tuple(fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('literal')), { maxLength: 4 }), WS, fc.boolean())
      .map(([kv, w, t]) => `{${kv.map(([k, v]) => `${k}:${w}${v}`).join(`,${w}`)}${t && kv.length ? ',' : ''}}`),
  ),
}));
const anyLiteral = fc.tuple(fc.constantFrom('', ' ', '\t', '\n', '# c\n', '\n  '), literal, fc.constantFrom('', '\n', ' # c', '\n  ', ',', ', 1')).map(([a, l, b]) => `${a}${l}${b}`);

/** The bypasses of issue 19 and their benign neighbours. */
const REGRESSIONS = [
  "{'descr': '\\x4f', 'fortran_order': False, 'shape': (1,), }",
  "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }",
  "{'descr': '' 'O', 'fortran_order': False, 'shape': (1,), }",
  "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': '|O'}",
  "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
  "{'descr': [('a', '<f8'), ('b', '<i4', (2,))], 'fortran_order': False, 'shape': (2,), }",
  "{'descr': [('', '|V4'), (('t', 'n'), '<f8')], 'fortran_order': True, 'shape': (), }",
  "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }",
  "{'descr': ('<f8', 'O'), 'fortran_order': False, 'shape': (1,), }",
  "{'descr': [('a', 'f8,O')], 'fortran_order': False, 'shape': (1,), }",
  "{'descr': '<f8', 'fortran_order': False}",
  "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
  "['descr', 'fortran_order', 'shape']",
  // numpy's _filter_header drops every L after a number, and its untokenize drops an indented last line.
  "{'descr': '|O', 'fortran_order': False, 'shape': (1L L,), }",
  "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n  ",
];

describe('.npy header: mlgate and CPython read the same literal', () => {
  it('agrees on the regression headers and on generated variants (every version)', () => {
    const texts: Array<[number, string]> = [];
    for (const t of REGRESSIONS) for (const major of [1, 2, 3]) texts.push([major, t]);
    const gen = fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 2, arbitrary: header }, { weight: 2, arbitrary: damaged }, { weight: 3, arbitrary: anyLiteral });
    const samples = fc.sample(fc.tuple(fc.constantFrom(1, 2, 3), gen), { numRuns: 3000, seed: 19 });
    texts.push(...samples);
    const answers = pythonBatch<PyAnswer>(PYTHON, texts.map(([m, t]) => headerBytes(m, t)));
    let accepted = 0;
    let objects = 0;
    let python2 = 0;
    for (let i = 0; i < texts.length; i++) {
      const [major, text] = texts[i]!;
      const py = answers[i]!;
      const me = mine(major, text);
      const where = `v${major} ${JSON.stringify(text)} (python: ${py.error ?? py.verdict})`;
      expect(me.value, where).toEqual(py.value);
      if (py.value === null || py.verdict === 'invalid') {
        expect(me.header, where).toBe('invalid');
        continue;
      }
      accepted++;
      if (/[0-9] ?L\b/.test(text)) python2++;
      expect(me.header, where).not.toBe('invalid');
      if (py.verdict === 'object') {
        objects++;
        expect(me.header, where).toEqual({ hasObject: true });
      }
    }
    // The generators must reach both sides of every decision.
    expect(accepted).toBeGreaterThan(300);
    expect(objects).toBeGreaterThan(100);
    expect(python2).toBeGreaterThan(20);
    expect(texts.length - accepted).toBeGreaterThan(200);
  });

  it('plain dtypes stay plain: no object verdict on numeric, bytes, str, void and datetime headers', () => {
    for (const s of PLAIN_SPECS) {
      const text = `{'descr': '${s}', 'fortran_order': False, 'shape': (1,), }`;
      expect(parseNpyHeader(npyFile(1, text)).hasObject, s).toBe(false);
    }
    const structured = "{'descr': [('a', '<f8'), ('b', '<i4', (2,)), ('', '|V4'), (('title', 'c'), '|S3')], 'fortran_order': False, 'shape': (1,), }";
    expect(parseNpyHeader(npyFile(1, structured)).hasObject).toBe(false);
  });

  it('refuses what it cannot reproduce exactly instead of guessing', () => {
    // Python resolves \N{…} through its Unicode name database; mlgate fails closed.
    expect(() => parsePythonLiteral("'\\N{LATIN CAPITAL LETTER O}'")).toThrow(PyLiteralError);
    expect(() => parseNpyHeader(npyFile(1, "{'descr': '\\N{LATIN CAPITAL LETTER O}', 'fortran_order': False, 'shape': (1,)}"))).toThrow(NpyError);
    // Bounded: deep nesting and long runs of signs are refused, not recursed into.
    expect(() => parsePythonLiteral('['.repeat(10_000) + ']'.repeat(10_000))).toThrow(/nesting/);
    expect(() => parsePythonLiteral('-'.repeat(100_000) + '1')).toThrow(/nesting/);
    expect(() => parsePythonLiteral('1' + '0'.repeat(5000))).toThrow(/digits/);
  });
});

describe('python-literal: bounded on hostile text', () => {
  it('any text gives a value or a PyLiteralError, never another exception', () => {
    const soup = fc.stringMatching(/^[\s'"\\(){}[\],:+\-.#0-9a-fA-FxobjLrRuU_eE]{0,60}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), soup), fc.boolean(), (text, filterHeader) => {
        try {
          parsePythonLiteral(text, { filterHeader });
        } catch (e) {
          if (!(e instanceof PyLiteralError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('a header-sized text of many equal keys, long strings or deep brackets parses in linear time', () => {
    const cases = [
      `{${'1:1,'.repeat(16_000)}}`,
      `{${Array.from({ length: 8000 }, (_, i) => `${i}:${i},`).join('')}}`,
      `{${Array.from({ length: 6000 }, (_, i) => `(${i}, 'k'):1,`).join('')}}`,
      `'${'\\x41'.repeat(12_000)}'`,
      `'${'a'.repeat(60_000)}`,
      '('.repeat(60_000),
      `[${'-'.repeat(30)}1, ${'0x' + 'f'.repeat(16_000)}]`,
    ];
    for (const text of cases) {
      const t0 = performance.now();
      try {
        parsePythonLiteral(text, { filterHeader: true });
      } catch (e) {
        if (!(e instanceof PyLiteralError)) throw e;
      }
      expect(performance.now() - t0, text.slice(0, 40)).toBeLessThan(500);
    }
  });
});
