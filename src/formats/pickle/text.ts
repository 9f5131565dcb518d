/** Decoders for the text arguments of protocol 0 (the inputs are latin1 strings of the raw bytes). */

/** Keeps a leading BOM as U+FEFF, as CPython's UTF-8 decoder does. */
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** GLOBAL's module and name lines: strict UTF-8 (CPython raises on anything else). Undefined when invalid. */
export function decodeUtf8Strict(buf: Buffer, a: number, b: number): string | undefined {
  if (isAscii(buf, a, b)) return buf.toString('latin1', a, b);
  try {
    return UTF8_STRICT.decode(buf.subarray(a, b));
  } catch {
    return undefined;
  }
}

/** INST names and protocol 0 persistent ids must be ASCII. */
export function isAscii(buf: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (buf[i]! > 0x7f) return false;
  return true;
}

const SIMPLE: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

/** STRING: a quoted Python 2 `repr` with backslash escapes (codecs.escape_decode). Undefined when malformed. */
export function decodeStringRepr(raw: string): string | undefined {
  const q = raw[0];
  if (raw.length < 2 || (q !== "'" && q !== '"') || raw[raw.length - 1] !== q) return undefined;
  const s = raw.slice(1, -1);
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const d = s[++i];
    if (d === undefined) return undefined;
    if (d in SIMPLE) out += SIMPLE[d];
    else if (d === 'x') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (d >= '0' && d <= '7') {
      const m = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      out += String.fromCharCode(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else out += `\\${d}`;
  }
  return out;
}

/** UNICODE: raw-unicode-escape (only `\uXXXX` and `\UXXXXXXXX` are escapes). Undefined when malformed. */
export function decodeRawUnicodeEscape(raw: string): string | undefined {
  if (!raw.includes('\\')) return raw;
  let bad = false;
  const out = raw.replace(/(\\+)(u[0-9a-fA-F]{0,4}|U[0-9a-fA-F]{0,8})/g, (all, slashes: string, esc: string) => {
    if (slashes.length % 2 === 0) return all;
    const want = esc[0] === 'u' ? 5 : 9;
    if (esc.length !== want) {
      bad = true;
      return all;
    }
    const cp = parseInt(esc.slice(1), 16);
    if (cp > 0x10ffff) {
      bad = true;
      return all;
    }
    return slashes.slice(1) + String.fromCodePoint(cp);
  });
  return bad ? undefined : out;
}

const SLOTS = 16384;
const KEY_MAX = 32;

/**
 * Decodes short UTF-8 strings through a small two-way cache keyed by their
 * bytes: pickles repeat the same keys and names millions of times, and a hit
 * costs a hash and a compare instead of a new string. Two ways, and a mixed
 * hash, because names that differ only in their last digits (`tok17`,
 * `tok4113`) otherwise evict each other on every round.
 */
export class StringCache {
  private readonly keys = new Uint8Array(SLOTS * KEY_MAX);
  private readonly lens = new Int16Array(SLOTS).fill(-1);
  private readonly values: string[] = new Array<string>(SLOTS).fill('');
  /** Per pair of slots, the way written last: a miss replaces the other one. */
  private readonly recent = new Uint8Array(SLOTS / 2);

  /**
   * Undefined when the bytes are not UTF-8 as CPython's "surrogatepass"
   * decoder takes it (BINUNICODE and friends): the loader fails there. Only
   * a miss is checked; a hit matched bytes checked before.
   */
  decode(buf: Buffer, at: number, n: number): string | undefined {
    if (n > KEY_MAX) return decodeUtf8(buf, at, n);
    let h = 0x811c9dc5 ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ buf[at + i]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const pair = h & (SLOTS / 2 - 1);
    const first = pair * 2;
    if (this.matches(first, buf, at, n)) {
      this.recent[pair] = 0;
      return this.values[first]!;
    }
    if (this.matches(first + 1, buf, at, n)) {
      this.recent[pair] = 1;
      return this.values[first + 1]!;
    }
    const way = this.recent[pair]! ^ 1;
    const slot = first + way;
    this.recent[pair] = way;
    const s = decodeUtf8(buf, at, n);
    if (s === undefined) return undefined;
    const keys = this.keys;
    const base = slot * KEY_MAX;
    for (let i = 0; i < n; i++) keys[base + i] = buf[at + i]!;
    this.lens[slot] = n;
    this.values[slot] = s;
    return s;
  }

  private matches(slot: number, buf: Buffer, at: number, n: number): boolean {
    if (this.lens[slot] !== n) return false;
    const keys = this.keys;
    const base = slot * KEY_MAX;
    let i = 0;
    while (i < n && keys[base + i] === buf[at + i]) i++;
    return i === n;
  }
}

const BACKSLASH = 0x5c;

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
}

/**
 * Whether a STRING line `buf[a..b)` is one CPython accepts, without decoding
 * it (long lines): quoted at both ends with the same quote, every `\x`
 * followed by two hex digits, no backslash left at the end.
 */
export function isValidStringRepr(buf: Buffer, a: number, b: number): boolean {
  const q = buf[a];
  if (b - a < 2 || (q !== 0x27 && q !== 0x22) || buf[b - 1] !== q) return false;
  const end = b - 1;
  for (let i = a + 1; i < end; i++) {
    if (buf[i] !== BACKSLASH) continue;
    if (i + 1 >= end) return false;
    if (buf[i + 1] === 0x78) {
      if (i + 3 >= end || !isHex(buf[i + 2]) || !isHex(buf[i + 3])) return false;
      i += 3;
    } else i++;
  }
  return true;
}

/** Whether a UNICODE line is valid raw-unicode-escape, without decoding it (long lines). */
export function isValidRawUnicodeEscape(buf: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    if (buf[i] !== BACKSLASH || i + 1 >= b) continue;
    const d = buf[++i];
    if (d !== 0x75 && d !== 0x55) continue;
    const count = d === 0x75 ? 4 : 8;
    if (i + count >= b) return false;
    let cp = 0;
    for (let k = 1; k <= count; k++) {
      if (!isHex(buf[i + k])) return false;
      cp = cp * 16 + parseInt(String.fromCharCode(buf[i + k]!), 16);
    }
    if (cp > 0x10ffff) return false;
    i += count;
  }
  return true;
}

/** UTF-8 with a replacement character only where the bytes really encode one. */
function decodeUtf8(buf: Buffer, at: number, n: number): string | undefined {
  const s = buf.toString('utf8', at, at + n);
  return s.includes('\ufffd') && !isUtf8SurrogatePass(buf, at, at + n) ? undefined : s;
}

/**
 * Whether `buf[a..b)` is UTF-8 under CPython's "surrogatepass" error handler
 * (how BINUNICODE, SHORT_BINUNICODE and BINUNICODE8 are decoded): strict
 * UTF-8, except that encoded surrogates (ED A0..BF xx) are accepted.
 */
export function isUtf8SurrogatePass(buf: Buffer, a: number, b: number): boolean {
  let i = a;
  while (i < b) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false;
    if (i + n >= b) return false;
    const c1 = buf[i + 1]!;
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return false;
    i += n + 1;
  }
  return true;
}
