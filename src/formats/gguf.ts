import type { ByteSource } from './byte-source.js';

/**
 * GGUF (llama.cpp's model format), versions 1 to 3, little- or big-endian:
 * `GGUF`, a version, the tensor and key/value counts, the metadata key/values
 * (typed scalars, strings, arrays), the tensor infos (name, dims, type,
 * offset), then tensor data at an aligned offset. Only the header region is
 * read, through a small window; every count and length is checked against
 * the bytes that remain before anything is allocated for it, so a hostile
 * header costs at most what the file holds. The chat templates in the
 * metadata are returned for the caller to judge.
 */

export const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');
const WINDOW = 1 << 20;
const MAX_TENSORS = 1_000_000;
const MAX_KV = 1_000_000;
const MAX_KEY_BYTES = 65_535;
const MAX_ARRAY_DEPTH = 4;
const MAX_DIMS = 4; // GGML_MAX_DIMS
/** Values visited (array elements included) before the scan stops: bounds time on files full of tiny strings. */
const MAX_VALUES = 50_000_000;
/** Chat templates kept for analysis up to this many bytes; a longer one is reported, not read. */
export const GGUF_TEMPLATE_MAX_BYTES = 4 << 20;

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;
const SCALAR_SIZE: Record<number, number> = { [T.U8]: 1, [T.I8]: 1, [T.U16]: 2, [T.I16]: 2, [T.U32]: 4, [T.I32]: 4, [T.F32]: 4, [T.BOOL]: 1, [T.U64]: 8, [T.I64]: 8, [T.F64]: 8 };
const TYPE_NAMES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'];

/** ggml tensor types: [elements per block, bytes per block]. Types missing here are only bounds-checked. */
const GGML_BLOCK: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136],
  24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2], 34: [256, 54], 35: [256, 66], 39: [32, 17],
};
/** Type ids above this are no ggml type at all. */
const GGML_TYPE_LIMIT = 64;

export interface GgufTemplate {
  key: string;
  /** The template, or undefined when it is longer than GGUF_TEMPLATE_MAX_BYTES. */
  value?: string;
  bytes: number;
}

export type GgufResult =
  | { ok: true; version: number; bigEndian: boolean; tensors: number; kvs: number; dataOffset: number; templates: GgufTemplate[] }
  | { ok: false; code: 'malformed' | 'budget-exceeded'; reason: string; templates: GgufTemplate[] };

class Bad extends Error {
  constructor(
    readonly code: 'malformed' | 'budget-exceeded',
    message: string,
  ) {
    super(message);
  }
}

class Reader {
  pos = 0;
  private win: Buffer = Buffer.alloc(0);
  private winStart = 0;
  values = 0;

  constructor(
    private readonly src: ByteSource,
    public little: boolean,
    public wide: boolean,
  ) {}

  get remaining(): number {
    return this.src.size - this.pos;
  }

  /** Makes bytes [pos, pos + n) readable in the window; returns where they start in it. */
  private ensure(n: number, what: string): number {
    if (n > this.remaining) throw new Bad('malformed', `the file ends inside ${what} at byte ${this.pos} (truncated)`);
    if (this.pos < this.winStart || this.pos + n > this.winStart + this.win.length) {
      this.winStart = this.pos;
      this.win = this.src.read(this.pos, Math.max(n, WINDOW));
    }
    return this.pos - this.winStart;
  }

  take(n: number, what: string): Buffer {
    const at = this.ensure(n, what);
    this.pos += n;
    return this.win.subarray(at, at + n);
  }

  /**
   * Skips `n` strings without decoding them: the vocabulary of a large model
   * is hundreds of thousands, so this loop reads lengths straight from the
   * window.
   */
  skipStrings(n: number, what: string): void {
    const size = this.wide ? 8 : 4;
    const fileSize = this.src.size;
    let i = 0;
    while (i < n) {
      this.ensure(size, `the length of ${what}[${i}]`);
      const w = this.win;
      const base = this.winStart;
      const end = base + w.length;
      let pos = this.pos;
      while (i < n && pos + size <= end) {
        const at = pos - base;
        const len = !this.wide
          ? this.little ? w.readUInt32LE(at) : w.readUInt32BE(at)
          : this.little ? w.readUInt32LE(at) + w.readUInt32LE(at + 4) * 2 ** 32 : w.readUInt32BE(at + 4) + w.readUInt32BE(at) * 2 ** 32;
        pos += size;
        if (len > fileSize - pos) {
          this.pos = pos;
          throw new Bad('malformed', `${what}[${i}] claims ${len} bytes but only ${fileSize - pos} remain at byte ${pos} (truncated or forged length)`);
        }
        pos += len;
        i++;
      }
      this.pos = pos;
    }
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return this.little ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }

  u64(what: string): bigint {
    const b = this.take(8, what);
    return this.little ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
  }

  /** A count or length: u32 in version 1, u64 after; must fit a safe integer. */
  count(what: string): number {
    const v = this.wide ? this.u64(what) : BigInt(this.u32(what));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Bad('malformed', `${what} is ${v}, larger than any file`);
    return Number(v);
  }

  skip(n: number, what: string): void {
    if (n > this.remaining) throw new Bad('malformed', `${what} runs ${n - this.remaining} bytes past the end of the file at byte ${this.pos} (truncated or forged length)`);
    this.pos += n;
  }

  /** A string: its bytes when at most `keep`, else skipped (undefined). */
  str(what: string, keep: number): { value?: string; bytes: number } {
    const n = this.count(`the length of ${what}`);
    if (n > this.remaining) throw new Bad('malformed', `${what} claims ${n} bytes but only ${this.remaining} remain at byte ${this.pos} (truncated or forged length)`);
    if (n > keep) {
      this.skip(n, what);
      return { bytes: n };
    }
    const raw = this.take(n, what);
    try {
      return { value: new TextDecoder('utf-8', { fatal: true }).decode(raw), bytes: n };
    } catch {
      throw new Bad('malformed', `${what} is not valid UTF-8`);
    }
  }

  tick(n = 1): void {
    this.values += n;
    if (this.values > MAX_VALUES) throw new Bad('budget-exceeded', `the metadata holds over ${MAX_VALUES} values, more than mlgate reads`);
  }
}

/** Skips one metadata value of `type`, checking every length against the file. */
function skipValue(r: Reader, type: number, what: string, depth: number): void {
  r.tick();
  const size = SCALAR_SIZE[type];
  if (size !== undefined) return r.skip(size, what);
  if (type === T.STRING) return void r.str(what, 0);
  if (type !== T.ARRAY) throw new Bad('malformed', `${what} has the unknown value type ${type}`);
  if (depth >= MAX_ARRAY_DEPTH) throw new Bad('malformed', `${what} nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
  const elem = r.u32(`the element type of ${what}`);
  const n = r.count(`the length of ${what}`);
  const min = SCALAR_SIZE[elem] ?? (elem === T.STRING ? (r.wide ? 8 : 4) : elem === T.ARRAY ? (r.wide ? 12 : 8) : undefined);
  if (min === undefined) throw new Bad('malformed', `${what} is an array of the unknown value type ${elem}`);
  if (n > r.remaining / min) throw new Bad('malformed', `${what} claims ${n} elements, more than the ${r.remaining} remaining bytes can hold (truncated or forged length)`);
  if (SCALAR_SIZE[elem] !== undefined) {
    r.tick(n);
    return r.skip(n * min, what);
  }
  if (elem === T.STRING) {
    r.tick(n);
    return r.skipStrings(n, what);
  }
  for (let i = 0; i < n; i++) skipValue(r, elem, `${what}[${i}]`, depth + 1);
}

const isTemplateKey = (k: string): boolean => k === 'tokenizer.chat_template' || k.startsWith('tokenizer.chat_template.');

export function readGgufHeader(src: ByteSource): GgufResult {
  const templates: GgufTemplate[] = [];
  try {
    return { ...parse(src, templates), templates };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, code: e.code, reason: e.message, templates };
    throw e;
  }
}

function parse(src: ByteSource, templates: GgufTemplate[]): { ok: true; version: number; bigEndian: boolean; tensors: number; kvs: number; dataOffset: number } {
  const r = new Reader(src, true, true);
  if (src.size < 8) throw new Bad('malformed', `the file is ${src.size} bytes, too short for the GGUF magic and version (truncated)`);
  const magic = r.take(4, 'the magic');
  if (!magic.equals(GGUF_MAGIC)) throw new Bad('malformed', "the file does not start with 'GGUF'");
  const vb = r.take(4, 'the version');
  const le = vb.readUInt32LE(0);
  const be = vb.readUInt32BE(0);
  // A big-endian file (s390x conversions exist) reads as a huge version little-endian.
  const version = le >= 1 && le <= 3 ? le : be >= 1 && be <= 3 ? be : undefined;
  if (version === undefined) throw new Bad('malformed', `the version is ${le}; llama.cpp reads versions 1 to 3`);
  r.little = version === le;
  r.wide = version >= 2;
  const tensors = r.count('the tensor count');
  const kvs = r.count('the metadata count');
  if (tensors > MAX_TENSORS) throw new Bad('budget-exceeded', `the header declares ${tensors} tensors, over the ${MAX_TENSORS} mlgate reads`);
  if (kvs > MAX_KV) throw new Bad('budget-exceeded', `the header declares ${kvs} metadata keys, over the ${MAX_KV} mlgate reads`);
  const strLen = r.wide ? 8 : 4;
  if (kvs * (strLen + 4 + 1) > r.remaining) throw new Bad('malformed', `the header declares ${kvs} metadata keys, more than the ${r.remaining} remaining bytes can hold (truncated or forged count)`);
  let alignment = 32;
  const keys = new Set<string>();
  for (let i = 0; i < kvs; i++) {
    const { value: key } = r.str(`metadata key ${i}`, MAX_KEY_BYTES);
    if (key === undefined) throw new Bad('malformed', `metadata key ${i} is longer than ${MAX_KEY_BYTES} bytes`);
    if (keys.has(key)) throw new Bad('malformed', `the metadata key '${key}' appears twice; loaders disagree on which value wins`);
    keys.add(key);
    const type = r.u32(`the type of metadata '${key}'`);
    if (isTemplateKey(key)) {
      if (type !== T.STRING) throw new Bad('malformed', `the chat template '${key}' is a ${TYPE_NAMES[type] ?? `type-${type}`} value, not a string`);
      r.tick();
      const s = r.str(`the metadata '${key}'`, GGUF_TEMPLATE_MAX_BYTES);
      templates.push({ key, ...s });
    } else if (key === 'general.alignment') {
      if (type !== T.U32) throw new Bad('malformed', `general.alignment is a ${TYPE_NAMES[type] ?? `type-${type}`} value, not a uint32`);
      alignment = r.u32('general.alignment');
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw new Bad('malformed', `general.alignment is ${alignment}, not a power of two`);
    } else {
      skipValue(r, type, `the metadata '${key}'`, 0);
    }
  }
  const infoMin = strLen + 4 + 4 + 8;
  if (tensors * infoMin > r.remaining) throw new Bad('malformed', `the header declares ${tensors} tensors, more than the ${r.remaining} remaining bytes can hold (truncated or forged count)`);
  const infos: Array<{ name: string; offset: bigint; bytes?: bigint }> = [];
  const names = new Set<string>();
  for (let i = 0; i < tensors; i++) {
    r.tick();
    const { value: name } = r.str(`the name of tensor ${i}`, MAX_KEY_BYTES);
    if (name === undefined) throw new Bad('malformed', `the name of tensor ${i} is longer than ${MAX_KEY_BYTES} bytes`);
    if (names.has(name)) throw new Bad('malformed', `the tensor '${name}' appears twice`);
    names.add(name);
    const nd = r.u32(`the dimension count of tensor '${name}'`);
    if (nd > MAX_DIMS) throw new Bad('malformed', `tensor '${name}' has ${nd} dimensions; ggml allows at most ${MAX_DIMS}`);
    let elements = 1n;
    let first = 1n;
    for (let d = 0; d < nd; d++) {
      const dim = r.wide ? r.u64(`dimension ${d} of tensor '${name}'`) : BigInt(r.u32(`dimension ${d} of tensor '${name}'`));
      if (d === 0) first = dim;
      elements *= dim;
    }
    if (elements >= 1n << 63n) throw new Bad('malformed', `tensor '${name}' has ${elements} elements, more than ggml can index`);
    const type = r.u32(`the type of tensor '${name}'`);
    if (type >= GGML_TYPE_LIMIT) throw new Bad('malformed', `tensor '${name}' has the unknown ggml type ${type}`);
    const offset = r.u64(`the offset of tensor '${name}'`);
    if (offset % BigInt(alignment) !== 0n) throw new Bad('malformed', `tensor '${name}' starts at data offset ${offset}, not a multiple of the alignment ${alignment}`);
    const block = GGML_BLOCK[type];
    if (block && first % BigInt(block[0]) !== 0n) throw new Bad('malformed', `tensor '${name}' has rows of ${first} elements, not a multiple of its type's ${block[0]}-element block`);
    infos.push({ name, offset, bytes: block ? (elements / BigInt(block[0])) * BigInt(block[1]) : undefined });
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const dataBytes = BigInt(src.size) - BigInt(dataOffset);
  infos.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  let end = 0n;
  let prev = '';
  for (const t of infos) {
    if (t.offset < end) throw new Bad('malformed', `tensor '${t.name}' (data offset ${t.offset}) overlaps tensor '${prev}'`);
    end = t.offset + (t.bytes ?? 0n);
    if (end > dataBytes || t.offset > dataBytes) throw new Bad('malformed', `tensor '${t.name}' ends at data offset ${end}, past the ${dataBytes > 0n ? dataBytes : 0n}-byte data section (truncated or forged offset)`);
    prev = t.name;
  }
  return { ok: true, version, bigEndian: !r.little, tensors, kvs, dataOffset };
}
