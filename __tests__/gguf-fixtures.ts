/**
 * GGUF files assembled by hand, byte by byte, as the llama.cpp GGUF spec lays
 * them out: magic, version, counts, typed key/values, tensor infos, aligned
 * tensor data. Either endianness; version 1 uses 32-bit counts and lengths.
 */
export type GgufValue =
  | string
  | { u8: number }
  | { u32: number }
  | { i32: number }
  | { f32: number }
  | { u64: bigint }
  | { bool: boolean }
  | { arr: GgufValue[]; elem: number }
  /** Any type id with raw payload bytes (to forge). */
  | { type: number; raw: Buffer };

export interface GgufTensor {
  name: string;
  dims: number[];
  /** ggml type id (0 F32, 1 F16, 2 Q4_0, 8 Q8_0 …). */
  type: number;
  /** Offset inside the data section; default: packed after the previous tensor, aligned. */
  offset?: bigint;
}

export interface GgufSpec {
  version?: 1 | 2 | 3;
  bigEndian?: boolean;
  kv?: Array<[string, GgufValue]>;
  tensors?: GgufTensor[];
  /** Overrides of the declared counts (forgeries). */
  tensorCount?: bigint;
  kvCount?: bigint;
  /** Bytes of tensor data written after the header; default: exactly what the tensors need. */
  dataBytes?: number;
}

const TYPE_SIZE: Record<number, [number, number]> = { 0: [1, 4], 1: [1, 2], 2: [32, 18], 8: [32, 34], 30: [1, 2] };

export function tensorBytes(t: GgufTensor): number {
  const [block, size] = TYPE_SIZE[t.type] ?? [1, 1];
  return (t.dims.reduce((a, b) => a * b, 1) / block) * size;
}

class Enc {
  parts: Buffer[] = [];
  constructor(
    readonly be: boolean,
    readonly wide: boolean,
  ) {}
  get length(): number {
    return this.parts.reduce((a, b) => a + b.length, 0);
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(n >>> 0);
    else b.writeUInt32LE(n >>> 0);
    this.parts.push(b);
  }
  u64(n: bigint): void {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigUInt64BE(n);
    else b.writeBigUInt64LE(n);
    this.parts.push(b);
  }
  count(n: number | bigint): void {
    if (this.wide) this.u64(BigInt(n));
    else this.u32(Number(n));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.count(b.length);
    this.parts.push(b);
  }
  raw(b: Buffer): void {
    this.parts.push(b);
  }
}

function typeOf(v: GgufValue): number {
  if (typeof v === 'string') return 8;
  if ('u8' in v) return 0;
  if ('u32' in v) return 4;
  if ('i32' in v) return 5;
  if ('f32' in v) return 6;
  if ('bool' in v) return 7;
  if ('arr' in v) return 9;
  if ('u64' in v) return 10;
  return v.type;
}

function value(e: Enc, v: GgufValue): void {
  if (typeof v === 'string') return e.str(v);
  const b = (n: number, w: (b: Buffer) => void): void => {
    const x = Buffer.alloc(n);
    w(x);
    e.raw(x);
  };
  if ('u8' in v) return b(1, (x) => x.writeUInt8(v.u8));
  if ('u32' in v) return e.u32(v.u32);
  if ('i32' in v) return b(4, (x) => (e.be ? x.writeInt32BE(v.i32) : x.writeInt32LE(v.i32)));
  if ('f32' in v) return b(4, (x) => (e.be ? x.writeFloatBE(v.f32) : x.writeFloatLE(v.f32)));
  if ('bool' in v) return b(1, (x) => x.writeUInt8(v.bool ? 1 : 0));
  if ('u64' in v) return e.u64(v.u64);
  if ('arr' in v) {
    e.u32(v.elem);
    e.count(v.arr.length);
    for (const x of v.arr) value(e, x);
    return;
  }
  e.raw(v.raw);
}

/** The file, and the offsets where each header field ends (truncation points). */
export function gguf(spec: GgufSpec = {}): Buffer {
  const version = spec.version ?? 3;
  const e = new Enc(spec.bigEndian ?? false, version >= 2);
  e.raw(Buffer.from('GGUF', 'latin1'));
  e.u32(version);
  const tensors = spec.tensors ?? [];
  const kv = spec.kv ?? [];
  e.count(spec.tensorCount ?? BigInt(tensors.length));
  e.count(spec.kvCount ?? BigInt(kv.length));
  let alignment = 32;
  for (const [k, v] of kv) {
    e.str(k);
    e.u32(typeOf(v));
    value(e, v);
    if (k === 'general.alignment' && typeof v === 'object' && 'u32' in v) alignment = v.u32;
  }
  let next = 0n;
  let need = 0;
  for (const t of tensors) {
    e.str(t.name);
    e.u32(t.dims.length);
    for (const d of t.dims) e.count(d);
    e.u32(t.type);
    const off = t.offset ?? next;
    e.u64(off);
    const size = BigInt(tensorBytes(t));
    next = ((off + size + BigInt(alignment) - 1n) / BigInt(alignment)) * BigInt(alignment);
    need = Math.max(need, Number(off + size));
  }
  const pad = tensors.length || spec.dataBytes ? (alignment - (e.length % alignment)) % alignment : 0;
  e.raw(Buffer.alloc(pad));
  e.raw(Buffer.alloc(spec.dataBytes ?? need));
  return Buffer.concat(e.parts);
}

/** A small, ordinary model: architecture metadata, a vocabulary, a chat template, two tensors. */
export function benignGguf(template = "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] }}{% endfor %}", extra: Partial<GgufSpec> = {}): Buffer {
  return gguf({
    kv: [
      ['general.architecture', 'llama'],
      ['general.name', 'tiny'],
      ['llama.context_length', { u32: 2048 }],
      ['llama.rope.freq_base', { f32: 10000 }],
      ['tokenizer.ggml.model', 'llama'],
      ['tokenizer.ggml.tokens', { elem: 8, arr: ['<s>', '</s>', 'a', 'b'] }],
      ['tokenizer.ggml.scores', { elem: 6, arr: [{ f32: 0 }, { f32: 0 }, { f32: -1 }, { f32: -2 }] }],
      ['tokenizer.ggml.add_bos_token', { bool: true }],
      ['tokenizer.chat_template', template],
    ],
    tensors: [
      { name: 'token_embd.weight', dims: [32, 4], type: 1 },
      { name: 'output.weight', dims: [32, 2], type: 8 },
    ],
    ...extra,
  });
}
