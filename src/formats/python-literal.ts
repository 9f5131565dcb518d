/**
 * The Python literals `ast.literal_eval` accepts, parsed without Python:
 * strings with every escape and prefix (and implicit concatenation), bytes,
 * ints, floats, complex sums, True/False/None/Ellipsis, tuples, lists, sets,
 * `set()` and dicts (duplicate keys: last value wins, first key stays).
 * Used where a file format stores a Python literal (numpy's .npy header).
 * Anything it cannot reproduce exactly (`\N{…}` escapes, deep nesting) is
 * refused, so a caller never acts on a value Python would read differently.
 */

export type PyLiteral =
  | { k: 'str'; v: string }
  | { k: 'bytes'; v: Uint8Array }
  | { k: 'int'; v: bigint }
  | { k: 'float'; v: number }
  | { k: 'complex'; re: number; im: number }
  | { k: 'bool'; v: boolean }
  | { k: 'none' }
  | { k: 'ellipsis' }
  | { k: 'tuple' | 'list' | 'set'; items: PyLiteral[] }
  | { k: 'dict'; keys: PyLiteral[]; values: PyLiteral[] };

export class PyLiteralError extends Error {
  override name = 'PyLiteralError';
}

export interface PyLiteralOptions {
  /**
   * Also accept what numpy's retry through `_filter_header` accepts (version 1
   * and 2 headers, which Python 2 may have written): an `L` right after a
   * number is dropped, and so is a last line of only spaces, which the
   * tokenize/untokenize round trip loses.
   */
  filterHeader?: boolean;
  /** Brackets and signs inside one another. */
  maxDepth?: number;
  /** Values in the whole literal. */
  maxNodes?: number;
}

/** Python refuses to convert longer decimal literals (sys.int_info.default_max_str_digits). */
const MAX_DECIMAL_DIGITS = 4300;
const MAX_NUMBER_CHARS = 16 * 1024;

type Expr =
  | { t: 'const'; v: PyLiteral }
  | { t: 'unary'; neg: boolean; operand: Expr }
  | { t: 'binop'; neg: boolean; left: Expr; right: Expr }
  | { t: 'tuple' | 'list' | 'set'; items: Expr[] }
  | { t: 'dict'; keys: Expr[]; values: Expr[] };

type Token = { t: 'num'; v: PyLiteral } | { t: 'str'; v: PyLiteral } | { t: 'name'; v: string } | { t: 'op'; v: string } | { t: 'end' };

const SIMPLE_ESCAPES: Record<string, number> = { '\\': 0x5c, "'": 0x27, '"': 0x22, a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };
const DIGITS = '[0-9](?:_?[0-9])*';
const DECIMAL = new RegExp(`(?:${DIGITS}\\.(?:${DIGITS})?|\\.${DIGITS}|${DIGITS})(?:[eE][+-]?${DIGITS})?[jJ]?`, 'y');
const RADIX = /0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const STRING_START = /(?:[rR][bBfF]?|[bBfF][rR]?|[uU])?(?=['"])/y;
const IDENT_CHAR = /[A-Za-z0-9_]/;
const HEX = /^[0-9a-fA-F]*$/;

/** Parses `text` as `ast.literal_eval(text)` would; throws PyLiteralError where Python raises. */
export function parsePythonLiteral(text: string, opts: PyLiteralOptions = {}): PyLiteral {
  return new LiteralParser(text, opts).parse();
}

class LiteralParser {
  private readonly s: string;
  private i = 0;
  /** Open brackets: inside them newlines are whitespace. */
  private brackets = 0;
  private depth = 0;
  private nodes = 0;
  private peeked: Token | undefined;
  private readonly maxDepth: number;
  private readonly maxNodes: number;

  constructor(
    text: string,
    private readonly opts: PyLiteralOptions,
  ) {
    // literal_eval strips leading spaces and tabs; the tokenizer reads \r\n and \r as \n.
    this.s = text.replace(/^[ \t]+/, '').replace(/\r\n?/g, '\n');
    this.maxDepth = opts.maxDepth ?? 32;
    this.maxNodes = opts.maxNodes ?? 100_000;
  }

  parse(): PyLiteral {
    if (this.s.includes('\0')) throw new PyLiteralError('the text contains a NUL byte');
    this.skipLeadingLines();
    const e = this.exprList(false);
    const end = this.next();
    if (end.t !== 'end') throw new PyLiteralError(`unexpected ${describeToken(end)} at offset ${this.i}`);
    return convert(e);
  }

  private fail(what: string): never {
    throw new PyLiteralError(`${what} at offset ${this.i}`);
  }

  /** Blank and comment lines before the expression; its first line must not be indented. */
  private skipLeadingLines(): void {
    const m = /^(?:[ \t\f]*(?:#[^\n]*)?\n)*\f*/.exec(this.s)!;
    this.i = m[0].length;
    if (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.fail('an indented first line');
  }

  // --- tokens

  private peek(): Token {
    this.peeked ??= this.lex();
    return this.peeked;
  }

  private next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private expectOp(v: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== v) this.fail(`expected "${v}", found ${describeToken(t)}`);
  }

  /** Whitespace, comments, continuations; newlines only inside brackets. Returns false at a top-level newline. */
  private skipSpace(): boolean {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f') this.i++;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '\\') {
        if (s[this.i + 1] !== '\n') this.fail('a backslash outside a string that does not end the line');
        this.i += 2;
        if (this.i >= s.length) this.fail('the text ends after a line continuation');
      } else if (c === '\n') {
        if (this.brackets === 0) return false;
        this.i++;
      } else return true;
    }
  }

  private lex(): Token {
    if (!this.skipSpace()) {
      // After the expression: only complete blank or comment lines may follow.
      if (!/^(?:\n[ \t\f]*(?:#[^\n]*)?)*\n?$/.test(this.s.slice(this.i))) this.fail('text after the literal');
      // An indented last line is an IndentationError, unless numpy's untokenize round trip dropped it.
      if (!this.opts.filterHeader && /\n[ \t]+$/.test(this.s)) this.fail('an indented line after the literal');
      this.i = this.s.length;
      return { t: 'end' };
    }
    const s = this.s;
    if (this.i >= s.length) return { t: 'end' };
    const c = s[this.i]!;
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(s[this.i + 1] ?? ''))) return this.number();
    if ('()[]{},:+-'.includes(c)) {
      this.i++;
      if (c === '(' || c === '[' || c === '{') this.brackets++;
      else if (c === ')' || c === ']' || c === '}') this.brackets = Math.max(0, this.brackets - 1);
      return { t: 'op', v: c };
    }
    STRING_START.lastIndex = this.i;
    const sm = STRING_START.exec(s);
    if (sm) return this.strings();
    NAME.lastIndex = this.i;
    const nm = NAME.exec(s);
    if (nm) {
      this.i += nm[0].length;
      return { t: 'name', v: nm[0] };
    }
    if (s.startsWith('...', this.i)) {
      this.i += 3;
      return { t: 'op', v: '...' };
    }
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private number(): Token {
    const s = this.s;
    const start = this.i;
    RADIX.lastIndex = start;
    let m = s[start] === '0' ? RADIX.exec(s) : null;
    let v: PyLiteral;
    if (m) {
      const text = m[0].replace(/_/g, '').toLowerCase();
      if (text.length > MAX_NUMBER_CHARS) this.fail('an integer literal too long to read');
      v = { k: 'int', v: BigInt(text) };
    } else {
      DECIMAL.lastIndex = start;
      m = DECIMAL.exec(s);
      if (!m) return this.fail('a malformed number');
      const text = m[0].includes('_') ? m[0].replace(/_/g, '') : m[0];
      if (text.length > MAX_NUMBER_CHARS) this.fail('a number literal too long to read');
      if (/[jJ]$/.test(text)) v = { k: 'complex', re: 0, im: Number(text.slice(0, -1)) };
      else if (/[.eE]/.test(text)) v = { k: 'float', v: Number(text) };
      else {
        if (/^0/.test(text) && /[1-9]/.test(text)) this.fail('leading zeros in a decimal integer');
        if (text.length > MAX_DECIMAL_DIGITS) this.fail(`an integer literal of over ${MAX_DECIMAL_DIGITS} digits`);
        v = { k: 'int', v: BigInt(text) };
      }
    }
    this.i = start + m[0].length;
    if (this.opts.filterHeader) {
      // numpy's _filter_header drops NAME tokens "L" after a NUMBER token (a dropped one does not reset its flag, so `1L L` loses both).
      const l = /[ \t\f]*L/y;
      for (l.lastIndex = this.i; l.exec(s) && !IDENT_CHAR.test(s[l.lastIndex] ?? ''); ) this.i = l.lastIndex;
    }
    const after = s[this.i] ?? '';
    if (IDENT_CHAR.test(after) || after === '.') this.fail('a malformed number');
    return { t: 'num', v };
  }

  /** One string literal, or several adjacent ones concatenated. */
  private strings(): Token {
    let text = '';
    let bytes: number[] | undefined;
    let first = true;
    for (;;) {
      STRING_START.lastIndex = this.i;
      const pm = STRING_START.exec(this.s);
      if (!pm) break;
      const prefix = pm[0].toLowerCase();
      if (prefix.includes('f')) this.fail('an f-string, which is not a literal');
      const isBytes = prefix.includes('b');
      if (!first && isBytes !== (bytes !== undefined)) this.fail('bytes and str literals concatenated');
      this.i += pm[0].length;
      const part = this.stringBody(prefix.includes('r'), isBytes);
      if (isBytes) (bytes ??= []).push(...(part as number[]));
      else text += part as string;
      first = false;
      const save = this.i;
      if (!this.skipSpace()) {
        this.i = save;
        break;
      }
    }
    return { t: 'str', v: bytes ? { k: 'bytes', v: Uint8Array.from(bytes) } : { k: 'str', v: text } };
  }

  private stringBody(raw: boolean, isBytes: boolean): string | number[] {
    const s = this.s;
    const q = s[this.i]!;
    const triple = s.startsWith(q.repeat(3), this.i);
    this.i += triple ? 3 : 1;
    const out: number[] = [];
    const units: string[] = [];
    const put = (code: number): void => {
      if (isBytes) out.push(code);
      else units.push(String.fromCodePoint(code));
    };
    for (;;) {
      if (this.i >= s.length) this.fail('an unterminated string');
      const c = s[this.i]!;
      if (triple ? s.startsWith(q.repeat(3), this.i) : c === q) {
        this.i += triple ? 3 : 1;
        break;
      }
      if (c === '\n' && !triple) this.fail('an unterminated string');
      const code = s.codePointAt(this.i)!;
      if (isBytes && code > 0x7f) this.fail('a non-ASCII character in a bytes literal');
      if (c !== '\\') {
        put(code);
        this.i += code > 0xffff ? 2 : 1;
        continue;
      }
      const d = s[this.i + 1];
      if (d === undefined) this.fail('an unterminated string');
      const dc = s.codePointAt(this.i + 1)!;
      if (isBytes && dc > 0x7f) this.fail('a non-ASCII character in a bytes literal');
      if (raw) {
        // A raw string keeps the backslash; it only stops the next character from ending the string.
        put(0x5c);
        put(dc);
        this.i += dc > 0xffff ? 3 : 2;
        continue;
      }
      this.i += 2;
      this.escape(d, isBytes, put);
    }
    return isBytes ? out : units.join('');
  }

  private escape(d: string, isBytes: boolean, put: (code: number) => void): void {
    const s = this.s;
    if (d === '\n') return;
    const simple = SIMPLE_ESCAPES[d];
    if (simple !== undefined) return put(simple);
    if (d >= '0' && d <= '7') {
      const m = /[0-7]{0,2}/y;
      m.lastIndex = this.i;
      const more = m.exec(s)![0];
      this.i += more.length;
      const v = parseInt(d + more, 8);
      return put(isBytes ? v & 0xff : v);
    }
    const hexLen = d === 'x' ? 2 : !isBytes && d === 'u' ? 4 : !isBytes && d === 'U' ? 8 : 0;
    if (hexLen) {
      const h = s.slice(this.i, this.i + hexLen);
      if (h.length !== hexLen || !HEX.test(h)) this.fail(`a truncated \\${d} escape`);
      const v = parseInt(h, 16);
      if (v > 0x10ffff) this.fail('an escape beyond the last Unicode character');
      this.i += hexLen;
      return put(v);
    }
    if (!isBytes && d === 'N') this.fail('a \\N{…} escape, which needs the Unicode name database');
    // Python keeps an unknown escape as it is (with a warning).
    const cp = s.codePointAt(this.i - 1)!;
    put(0x5c);
    put(cp);
    if (cp > 0xffff) this.i++;
  }

  // --- expressions

  private enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    if (++this.nodes > this.maxNodes) this.fail(`more than ${this.maxNodes} values`);
  }

  /** `a, b, c`: a tuple when there is a comma (allowed bare at the top level and inside parentheses). */
  private exprList(allowEmptyTuple: boolean): Expr {
    if (allowEmptyTuple && this.closes()) return { t: 'tuple', items: [] };
    const first = this.expr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.next();
      if (this.closes()) break;
      items.push(this.expr());
    }
    return { t: 'tuple', items };
  }

  private closes(): boolean {
    const t = this.peek();
    return t.t === 'end' || (t.t === 'op' && (t.v === ')' || t.v === ']' || t.v === '}'));
  }

  /** Binary + and - (left to right), over signed factors. */
  private expr(): Expr {
    let left = this.factor();
    while (this.isOp('+') || this.isOp('-')) {
      const neg = (this.next() as { v: string }).v === '-';
      this.enter();
      left = { t: 'binop', neg, left, right: this.factor() };
      this.depth--;
    }
    return left;
  }

  private factor(): Expr {
    if (this.isOp('+') || this.isOp('-')) {
      const neg = (this.next() as { v: string }).v === '-';
      this.enter();
      const operand = this.factor();
      this.depth--;
      return { t: 'unary', neg, operand };
    }
    return this.atom();
  }

  private atom(): Expr {
    const t = this.next();
    this.enter();
    try {
      switch (t.t) {
        case 'num':
        case 'str':
          return { t: 'const', v: t.v };
        case 'name':
          if (t.v === 'True' || t.v === 'False') return { t: 'const', v: { k: 'bool', v: t.v === 'True' } };
          if (t.v === 'None') return { t: 'const', v: { k: 'none' } };
          if (t.v === 'set' && this.isOp('(')) {
            this.next();
            this.expectOp(')');
            return { t: 'set', items: [] };
          }
          return this.fail(`the name ${t.v}, which is not a literal`);
        case 'op':
          return this.bracketed(t.v);
        default:
          return this.fail('the text ends before the literal does');
      }
    } finally {
      this.depth--;
    }
  }

  private bracketed(open: string): Expr {
    if (open === '...') return { t: 'const', v: { k: 'ellipsis' } };
    if (open === '(') {
      const e = this.exprList(true);
      this.expectOp(')');
      // `(x)` is x itself; `(x,)` and `()` are tuples.
      return e;
    }
    if (open === '[') {
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        items.push(this.expr());
        if (!this.isOp(',')) break;
        this.next();
      }
      this.expectOp(']');
      return { t: 'list', items };
    }
    if (open === '{') {
      if (this.isOp('}')) {
        this.next();
        return { t: 'dict', keys: [], values: [] };
      }
      const first = this.expr();
      if (this.isOp(':')) {
        const keys = [first];
        const values: Expr[] = [];
        this.next();
        values.push(this.expr());
        while (this.isOp(',')) {
          this.next();
          if (this.isOp('}')) break;
          keys.push(this.expr());
          this.expectOp(':');
          values.push(this.expr());
        }
        this.expectOp('}');
        return { t: 'dict', keys, values };
      }
      const items = [first];
      while (this.isOp(',')) {
        this.next();
        if (this.isOp('}')) break;
        items.push(this.expr());
      }
      this.expectOp('}');
      return { t: 'set', items };
    }
    return this.fail(`unexpected "${open}"`);
  }
}

function describeToken(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'the end of the text';
    case 'op':
      return `"${t.v}"`;
    case 'name':
      return `the name ${t.v}`;
    default:
      return `a ${t.v.k}`;
  }
}

// --- literal_eval's conversion of the syntax tree

function convert(e: Expr): PyLiteral {
  switch (e.t) {
    case 'const':
      return e.v;
    case 'tuple':
    case 'list':
      return { k: e.t, items: e.items.map(convert) };
    case 'set': {
      const items = new Map<string, PyLiteral>();
      for (const x of e.items.map(convert)) {
        const key = hashKey(x);
        if (!items.has(key)) items.set(key, x);
      }
      return { k: 'set', items: [...items.values()] };
    }
    case 'dict': {
      // Python keeps the first key and the last value of equal keys.
      const entries = new Map<string, [PyLiteral, PyLiteral]>();
      for (let n = 0; n < e.keys.length; n++) {
        const key = convert(e.keys[n]!);
        const value = convert(e.values[n]!);
        const h = hashKey(key);
        const prev = entries.get(h);
        if (prev) prev[1] = value;
        else entries.set(h, [key, value]);
      }
      const pairs = [...entries.values()];
      return { k: 'dict', keys: pairs.map(([k]) => k), values: pairs.map(([, v]) => v) };
    }
    case 'unary':
      return signedNumber(e);
    case 'binop': {
      // Only `real ± imaginary`, as literal_eval allows for complex numbers.
      const left = signedNumber(e.left);
      const right = plainNumber(e.right);
      if ((left.k !== 'int' && left.k !== 'float') || right.k !== 'complex') throw new PyLiteralError('an arithmetic expression that is not a complex number');
      // Python widens the real part to complex(real, 0.0) first, so zeros keep the signs IEEE arithmetic gives them.
      const re = left.k === 'int' ? Number(left.v) : left.v;
      return e.neg ? { k: 'complex', re: re - right.re, im: 0 - right.im } : { k: 'complex', re: re + right.re, im: 0 + right.im };
    }
  }
}

function plainNumber(e: Expr): PyLiteral {
  if (e.t === 'const' && (e.v.k === 'int' || e.v.k === 'float' || e.v.k === 'complex')) return e.v;
  throw new PyLiteralError('an operator applied to something other than a number');
}

function signedNumber(e: Expr): PyLiteral {
  if (e.t !== 'unary') return plainNumber(e);
  const v = plainNumber(e.operand);
  if (!e.neg) return v;
  if (v.k === 'int') return { k: 'int', v: -v.v };
  if (v.k === 'float') return { k: 'float', v: -v.v };
  return { k: 'complex', re: -(v as { re: number }).re, im: -(v as { im: number }).im };
}

/**
 * A string equal for exactly the values Python's `==` finds equal among
 * hashable literals (1 == 1.0 == True == 1+0j, -0.0 == 0); throws for the
 * unhashable ones, as building the dict or set would.
 */
function hashKey(v: PyLiteral): string {
  switch (v.k) {
    case 'int':
      return `n${v.v}`;
    case 'bool':
      return v.v ? 'n1' : 'n0';
    case 'float':
      return realKey(v.v);
    case 'complex':
      return v.im === 0 ? realKey(v.re) : `c${v.re},${v.im}`;
    case 'str':
      return `s${v.v}`;
    case 'bytes':
      return `b${Buffer.from(v.v).toString('hex')}`;
    case 'none':
    case 'ellipsis':
      return v.k;
    case 'tuple':
      return `t(${v.items
        .map((x) => {
          const h = hashKey(x);
          return `${h.length}:${h}`;
        })
        .join('')})`;
    default:
      throw new PyLiteralError(`an unhashable ${v.k} used as a dict key or set item`);
  }
}

function realKey(x: number): string {
  return Number.isInteger(x) ? `n${BigInt(x)}` : `f${x}`;
}

/** A short Python-style rendering for messages. */
export function pyRepr(v: PyLiteral, max = 120): string {
  const r = reprOf(v);
  return r.length > max ? `${r.slice(0, max - 1)}…` : r;
}

function reprOf(v: PyLiteral): string {
  switch (v.k) {
    case 'str':
      return `'${v.v.replace(/[\\']/g, '\\$&').replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
    case 'bytes':
      return `b'${Array.from(v.v, (b) => (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')}'`;
    case 'int':
      return v.v.toString();
    case 'float':
      return String(v.v);
    case 'complex':
      return `(${v.re}+${v.im}j)`;
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'ellipsis':
      return 'Ellipsis';
    case 'tuple':
      return `(${v.items.map(reprOf).join(', ')}${v.items.length === 1 ? ',' : ''})`;
    case 'list':
      return `[${v.items.map(reprOf).join(', ')}]`;
    case 'set':
      return v.items.length ? `{${v.items.map(reprOf).join(', ')}}` : 'set()';
    case 'dict':
      return `{${v.keys.map((k, n) => `${reprOf(k)}: ${reprOf(v.values[n]!)}`).join(', ')}}`;
  }
}
