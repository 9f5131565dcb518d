/**
 * The numbers of protocol 0 text arguments, read the way CPython's C
 * unpickler (`_pickle.c`, what `pickle.load` and `torch.load` run) reads them.
 * Mirroring it exactly matters: a form the loader accepts and mlgate refuses
 * makes mlgate stop where the loader runs on, so whatever follows would go
 * unchecked.
 *
 * Facts from CPython's source: INT goes through C `strtol(s, &end, 0)` and,
 * when that does not end at the newline or a NUL, `PyLong_FromString(s, NULL,
 * 0)`; LONG drops one trailing `L` and uses `PyLong_FromString(s, NULL, 0)`;
 * GET and PUT use `PyLong_FromString(s, NULL, 10)`; FLOAT uses
 * `PyOS_string_to_double`, which must end at the newline or a NUL. Every one
 * sees the line as a C string, so the first NUL byte ends it.
 *
 * All functions take the line without its newline: `buf[a..b)`.
 */

/** What a numeric argument reads as; undefined when the loader rejects it. */
export type IntValue = { value: bigint; bool: boolean };

const NUL = 0x00;

/** Whitespace for both C `isspace` in the C locale and CPython's `Py_ISSPACE`: \t \n \v \f \r and space. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return l - 0x61 + 10;
  return 99;
}

/** End of the C string: the first NUL, or `b`. */
function cEnd(buf: Buffer, a: number, b: number): number {
  const z = buf.indexOf(NUL, a);
  return z >= 0 && z < b ? z : b;
}

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

/**
 * glibc `strtol(s, &end, 0)`: leading whitespace, a sign, then `0x` hex,
 * leading-`0` octal or decimal. `end` is where it stopped (`a` when it read no
 * digit); `overflow` is its ERANGE.
 */
function strtol0(buf: Buffer, a: number, e: number): { value: bigint; end: number; overflow: boolean } {
  let i = a;
  while (i < e && isSpace(buf[i]!)) i++;
  let neg = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) neg = buf[i++] === 0x2d;
  let base = 10;
  if (i < e && buf[i] === 0x30) {
    if (i + 2 < e && (buf[i + 1]! | 0x20) === 0x78 && digitValue(buf[i + 2]!) < 16) {
      base = 16;
      i += 2;
    } else base = 8;
  }
  const start = i;
  let v = 0n;
  const bb = BigInt(base);
  while (i < e && digitValue(buf[i]!) < base) v = v * bb + BigInt(digitValue(buf[i++]!));
  if (i === start) return { value: 0n, end: a, overflow: false };
  if (neg) v = -v;
  return { value: v, end: i, overflow: v < LONG_MIN || v > LONG_MAX };
}

/**
 * `PyLong_FromString(s, NULL, base)` with base 0 or 10 over the C string
 * `buf[a..e)`: surrounding whitespace, a sign, for base 0 a `0x`/`0o`/`0b`
 * prefix (and no leading zero on a non-zero decimal), single underscores
 * between digits (and after a prefix). Undefined where CPython raises.
 */
function pyLong(buf: Buffer, a: number, e: number, base: 0 | 10): bigint | undefined {
  let i = a;
  while (i < e && isSpace(buf[i]!)) i++;
  let neg = false;
  if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) neg = buf[i++] === 0x2d;
  let radix = 10;
  let zeroOnly = false;
  let underscoreFirst = false;
  if (base === 0 && i < e && buf[i] === 0x30) {
    const p = i + 1 < e ? buf[i + 1]! | 0x20 : 0;
    if (p === 0x78 || p === 0x6f || p === 0x62) {
      radix = p === 0x78 ? 16 : p === 0x6f ? 8 : 2;
      i += 2;
      underscoreFirst = true;
    } else zeroOnly = true;
  }
  if (underscoreFirst && i < e && buf[i] === 0x5f) i++;
  let v = 0n;
  let digits = 0;
  const rb = BigInt(radix);
  for (;;) {
    if (i >= e || digitValue(buf[i]!) >= radix) break;
    const d = digitValue(buf[i++]!);
    if (zeroOnly && d !== 0) return undefined;
    v = v * rb + BigInt(d);
    digits++;
    // A single underscore may sit between two digits.
    if (i + 1 < e && buf[i] === 0x5f && digitValue(buf[i + 1]!) < radix) i++;
  }
  if (digits === 0) return undefined;
  while (i < e && isSpace(buf[i]!)) i++;
  if (i !== e) return undefined;
  return neg ? -v : v;
}

/** INT: `strtol` base 0 first, then `PyLong_FromString` base 0. A two-character line reading 0 or 1 is a bool. */
export function parseIntArg(buf: Buffer, a: number, b: number): IntValue | undefined {
  if (b <= a) return undefined;
  const e = cEnd(buf, a, b);
  const r = strtol0(buf, a, e);
  if (!r.overflow && r.end === e) return { value: r.value, bool: b - a === 2 && (r.value === 0n || r.value === 1n) };
  const v = pyLong(buf, a, e, 0);
  return v === undefined ? undefined : { value: v, bool: false };
}

/** LONG: one trailing `L` is dropped (not required), then `PyLong_FromString` base 0. */
export function parseLongArg(buf: Buffer, a: number, b: number): bigint | undefined {
  if (b <= a) return undefined;
  const end = buf[b - 1] === 0x4c ? b - 1 : b;
  return pyLong(buf, a, cEnd(buf, a, end), 0);
}

/** GET and PUT: `PyLong_FromString` base 10 (whitespace, sign and underscores allowed). */
export function parseMemoIndexArg(buf: Buffer, a: number, b: number): bigint | undefined {
  if (b <= a) return undefined;
  return pyLong(buf, a, cEnd(buf, a, b), 10);
}

const FLOAT_TEXT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/**
 * FLOAT: `PyOS_string_to_double` — no surrounding whitespace, no underscores,
 * no hex; `inf`, `infinity` and `nan` in any case; a finite literal that
 * overflows a double is an error (OverflowError).
 */
export function isFloatArg(buf: Buffer, a: number, b: number): boolean {
  if (b <= a) return false;
  const s = buf.toString('latin1', a, cEnd(buf, a, b));
  if (!FLOAT_TEXT.test(s)) return false;
  const c = s.charCodeAt(s.length - 1) | 0x20;
  // Only a digit or a dot can end a finite literal; inf and nan end in a letter.
  if (c === 0x66 || c === 0x79 || c === 0x6e) return true;
  return Number.isFinite(Number(s));
}
