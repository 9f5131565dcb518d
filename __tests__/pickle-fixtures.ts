// Pickles and archives assembled opcode by opcode, byte by byte, for the scanner's tests.
// Nothing here is produced by Python, and nothing is ever unpickled.
import { deflateRawSync } from 'node:zlib';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** A pickle writer: each method appends one opcode with its argument. */
export class P {
  private parts: Buffer[] = [];
  private raw(...bytes: Array<number | Buffer | string>): this {
    for (const b of bytes) this.parts.push(typeof b === 'number' ? Buffer.from([b]) : typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
    return this;
  }
  proto(n: number): this {
    return this.raw(0x80, n);
  }
  frame(n: number): this {
    return this.raw(0x95, u64(n));
  }
  global(module: string, name: string): this {
    return this.raw('c', Buffer.from(`${module}\n${name}\n`, 'utf8'));
  }
  inst(module: string, name: string): this {
    return this.raw('i', Buffer.from(`${module}\n${name}\n`, 'utf8'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return b.length < 256 ? this.raw(0x8c, b.length, b) : this.raw('X', u32(b.length), b);
  }
  binunicode(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw('X', u32(b.length), b);
  }
  binunicode8(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x8d, u64(b.length), b);
  }
  /** Protocol 0 STRING with a quoted repr. */
  string0(s: string): this {
    return this.raw('S', `'${s}'\n`);
  }
  unicode0(s: string): this {
    return this.raw('V', `${s}\n`);
  }
  shortBinstring(s: string): this {
    return this.raw('U', s.length, s);
  }
  bytes(b: Buffer): this {
    return b.length < 256 ? this.raw('C', b.length, b) : this.raw('B', u32(b.length), b);
  }
  bytes8(b: Buffer): this {
    return this.raw(0x8e, u64(b.length), b);
  }
  bytearray8(b: Buffer): this {
    return this.raw(0x96, u64(b.length), b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw('K', n);
    if (n >= 0 && n < 65536) return this.raw('M', n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.raw('J', b);
  }
  int0(n: number): this {
    return this.raw('I', `${n}\n`);
  }
  long1(n: bigint): this {
    const bytes: number[] = [];
    let v = n;
    while (v !== 0n && v !== -1n) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.raw(0x8a, bytes.length, Buffer.from(bytes));
  }
  float(): this {
    return this.raw('G', Buffer.alloc(8));
  }
  none(): this {
    return this.raw('N');
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  mark(): this {
    return this.raw('(');
  }
  tuple(): this {
    return this.raw('t');
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  tuple3(): this {
    return this.raw(0x87);
  }
  emptyTuple(): this {
    return this.raw(')');
  }
  emptyList(): this {
    return this.raw(']');
  }
  emptyDict(): this {
    return this.raw('}');
  }
  emptySet(): this {
    return this.raw(0x8f);
  }
  list(): this {
    return this.raw('l');
  }
  dict(): this {
    return this.raw('d');
  }
  append(): this {
    return this.raw('a');
  }
  appends(): this {
    return this.raw('e');
  }
  setitem(): this {
    return this.raw('s');
  }
  setitems(): this {
    return this.raw('u');
  }
  additems(): this {
    return this.raw(0x90);
  }
  frozenset(): this {
    return this.raw(0x91);
  }
  put(i: number): this {
    return i < 256 ? this.raw('q', i) : this.raw('r', u32(i));
  }
  put0(i: number): this {
    return this.raw('p', `${i}\n`);
  }
  get(i: number): this {
    return i < 256 ? this.raw('h', i) : this.raw('j', u32(i));
  }
  get0(i: number): this {
    return this.raw('g', `${i}\n`);
  }
  memoize(): this {
    return this.raw(0x94);
  }
  stackGlobal(): this {
    return this.raw(0x93);
  }
  reduce(): this {
    return this.raw('R');
  }
  build(): this {
    return this.raw('b');
  }
  newobj(): this {
    return this.raw(0x81);
  }
  newobjEx(): this {
    return this.raw(0x92);
  }
  obj(): this {
    return this.raw('o');
  }
  ext1(code: number): this {
    return this.raw(0x82, code);
  }
  persid0(id: string): this {
    return this.raw('P', `${id}\n`);
  }
  binpersid(): this {
    return this.raw('Q');
  }
  pop(): this {
    return this.raw('0');
  }
  popMark(): this {
    return this.raw('1');
  }
  dup(): this {
    return this.raw('2');
  }
  nextBuffer(): this {
    return this.raw(0x97);
  }
  readonlyBuffer(): this {
    return this.raw(0x98);
  }
  stop(): this {
    return this.raw('.');
  }
  /** Arbitrary bytes (raw array data, trailing garbage). */
  data(b: Buffer | string): this {
    return this.raw(b);
  }
  build_(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export const p = (): P => new P();

/** `module.name(arg)` as GLOBAL + MARK + STRING + TUPLE + REDUCE + STOP: the classic payload. */
export function callPickle(module: string, name: string, arg = 'id'): Buffer {
  return p().proto(2).global(module, name).str(arg).tuple1().reduce().stop().build_();
}

/** What torch.save writes in data.pkl for `{"w": tensor}`: OrderedDict of _rebuild_tensor_v2 over a persistent storage. */
export function torchDataPkl(extra?: (b: P) => P): Buffer {
  let b = p().proto(2).global('collections', 'OrderedDict').put(0).emptyTuple().reduce().put(1);
  b = b.str('w').put(2);
  b = b.global('torch._utils', '_rebuild_tensor_v2').put(3).mark();
  // persistent id ('storage', torch.FloatStorage, '0', 'cpu', 4), resolved by torch's persistent_load
  b = b.mark().str('storage').global('torch', 'FloatStorage').put(4).str('0').str('cpu').int(4).tuple().binpersid().put(5);
  b = b.int(0).int(4).tuple1().int(1).tuple1().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  b = b.put(6).setitem();
  if (extra) b = extra(b);
  return b.stop().build_();
}

export interface ZipMember {
  name: string;
  data: Buffer;
  /** 0 stored (default), 8 deflate. */
  method?: 0 | 8;
  flags?: number;
  /** Name written in the local header (defaults to `name`). */
  localName?: string;
  crc?: number;
  /** Overrides the declared uncompressed size. */
  size?: number;
}

/** A zip archive written field by field; `zip64` adds ZIP64 end records and extra fields. */
export function makeZip(members: ZipMember[], opts: { zip64?: boolean; prefix?: Buffer; comment?: string } = {}): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    out.push(b);
    offset += b.length;
  };
  if (opts.prefix) push(opts.prefix);
  const central: Buffer[] = [];
  for (const m of members) {
    const method = m.method ?? 0;
    const payload = method === 8 ? deflateRawSync(m.data) : m.data;
    const localName = Buffer.from(m.localName ?? m.name, 'utf8');
    const name = Buffer.from(m.name, 'utf8');
    const size = m.size ?? m.data.length;
    const at = offset;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    lh.writeUInt16LE(m.flags ?? 0, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(m.crc ?? 0, 14);
    lh.writeUInt32LE(payload.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(localName.length, 26);
    push(Buffer.concat([lh, localName]));
    push(payload);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    ch.writeUInt16LE(opts.zip64 ? 45 : 20, 6);
    ch.writeUInt16LE(m.flags ?? 0, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(m.crc ?? 0, 16);
    let extra = Buffer.alloc(0);
    if (opts.zip64) {
      ch.writeUInt32LE(0xffffffff, 20);
      ch.writeUInt32LE(0xffffffff, 24);
      ch.writeUInt32LE(0xffffffff, 42);
      extra = Buffer.concat([Buffer.from([1, 0, 24, 0]), u64(size), u64(payload.length), u64(at)]);
    } else {
      ch.writeUInt32LE(payload.length, 20);
      ch.writeUInt32LE(size, 24);
      ch.writeUInt32LE(at, 42);
    }
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    central.push(Buffer.concat([ch, name, extra]));
  }
  const cdStart = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdStart;
  if (opts.zip64) {
    const e64 = Buffer.alloc(56);
    e64.writeUInt32LE(0x06064b50, 0);
    e64.writeBigUInt64LE(44n, 4);
    e64.writeUInt16LE(45, 12);
    e64.writeUInt16LE(45, 14);
    e64.writeBigUInt64LE(BigInt(members.length), 24);
    e64.writeBigUInt64LE(BigInt(members.length), 32);
    e64.writeBigUInt64LE(BigInt(cdSize), 40);
    e64.writeBigUInt64LE(BigInt(cdStart), 48);
    const e64At = offset;
    push(e64);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(e64At), 8);
    loc.writeUInt32LE(1, 16);
    push(loc);
  }
  const comment = Buffer.from(opts.comment ?? '', 'utf8');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : members.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : members.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdSize, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdStart, 16);
  eocd.writeUInt16LE(comment.length, 20);
  push(Buffer.concat([eocd, comment]));
  return Buffer.concat(out);
}

/** A PyTorch zip checkpoint: archive/data.pkl, archive/data/0 (raw floats), archive/version. */
export function torchZip(dataPkl: Buffer = torchDataPkl(), extra: ZipMember[] = [], opts: { zip64?: boolean } = {}): Buffer {
  return makeZip(
    [
      { name: 'archive/data.pkl', data: dataPkl },
      { name: 'archive/byteorder', data: Buffer.from('little') },
      { name: 'archive/data/0', data: Buffer.from(new Float32Array([1.5, -2, 3.25, 0.125]).buffer) },
      { name: 'archive/version', data: Buffer.from('3\n') },
      { name: 'archive/.data/serialization_id', data: Buffer.from('1234567890') },
      ...extra,
    ],
    opts,
  );
}

/** A .npy file: header dict padded to a multiple of 64, then the body. */
export function npy(descr: string, shape: string, body: Buffer, version = 1): Buffer {
  let header = `{'descr': ${descr}, 'fortran_order': False, 'shape': ${shape}, }`;
  const prefix = version === 1 ? 10 : 12;
  const pad = 64 - ((prefix + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const h = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(h);
  if (version === 1) h.writeUInt16LE(header.length, 8);
  else h.writeUInt32LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), body]);
}

/** A joblib NumpyArrayWrapper for a float64 array of `count` items, as joblib ≥ 1.2 writes it (aligned). */
export function joblibWrapper(b: P, count: number, opts: { aligned?: boolean; object?: boolean } = {}): P {
  b = b.global('joblib.numpy_pickle', 'NumpyArrayWrapper').emptyTuple().newobj().emptyDict();
  b = b.mark().str('subclass').global('numpy', 'ndarray').str('shape').int(count).tuple1().str('order').str('C');
  b = b.str('dtype').global('numpy', 'dtype').str(opts.object ? 'O8' : 'f8').bool(false).bool(true).tuple3().reduce();
  b = b.mark().int(3).str('<').none().none().none().int(-1).int(-1).int(0).tuple().build();
  b = b.str('allow_mmap').bool(false);
  if (opts.aligned ?? true) b = b.str('numpy_array_alignment_bytes').int(16);
  return b.setitems().build();
}

/** Legacy (non-zip) torch.save: magic number, protocol version, sys info, the object, storage keys, raw storages. */
export function legacyTorchFile(main: Buffer): Buffer {
  const magic = p().proto(2).long1(0x1950a86a20f9469cfc6cn).stop().build_();
  const version = p().proto(2).int(1001).stop().build_();
  const sysInfo = p().proto(2).emptyDict().str('little_endian').bool(true).setitem().stop().build_();
  const keys = p().proto(2).emptyList().str('0').append().stop().build_();
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(16n);
  return Buffer.concat([magic, version, sysInfo, main, keys, size, Buffer.alloc(64, 0x3f)]);
}

/**
 * The object pickle of a legacy whole-model `torch.save(model)`: every
 * nn.Module class is written as the persistent id ('module', cls,
 * source_file, source), which PyTorch's loader answers with cls, then
 * instantiated by NEWOBJ and given its state by BUILD. `cls` may be any
 * pickle fragment pushing one value (a GLOBAL, or something computed).
 */
export function legacyWholeModel(cls: (b: P) => P, submodules: Array<[string, (b: P) => P]> = []): Buffer {
  let memo = 0;
  const module = (b: P, push: (b: P) => P): P => {
    b = push(b.mark().binunicode('module')).put(memo++).binunicode('/src/models.py').binunicode('class Net(nn.Module): ...').tuple().put(memo++).binpersid().put(memo++);
    return b.emptyTuple().newobj().put(memo++);
  };
  let b = module(p().proto(2), cls);
  b = b.emptyDict().put(memo++).mark().binunicode('training').bool(true).binunicode('_modules').global('collections', 'OrderedDict').put(memo++).emptyTuple().reduce().put(memo++);
  if (submodules.length) {
    b = b.mark();
    for (const [name, sub] of submodules) {
      b = module(b.binunicode(name).put(memo++), sub);
      b = b.emptyDict().put(memo++).binunicode('training').bool(true).setitem().build();
    }
    b = b.setitems();
  }
  return b.setitems().build().stop().build_();
}
