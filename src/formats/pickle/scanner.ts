import { isUtf8 } from 'node:buffer';
import { OP, HIGHEST_PROTOCOL, opcodeName } from './opcodes.js';
import { arrayByteLength, isJoblibWrapper, RETAIN_FROM, wrapperStateAfterBuild } from './joblib.js';
import { isFloatArg, parseIntArg, parseLongArg, parseMemoIndexArg } from './numbers.js';
import { StringCache, decodeRawUnicodeEscape, decodeStringRepr, decodeUtf8Strict, isAscii, isUtf8SurrogatePass, isValidRawUnicodeEscape, isValidStringRepr } from './text.js';
import { BIGINT, BOOL, BYTES, FLOAT, LSTR, NONE, OPAQUE, describe, isGlobal, isInst, persistentLoad, type Obj, type Value } from './values.js';
import type { Window } from './window.js';

/** A global the pickle makes the unpickler import (GLOBAL, INST or STACK_GLOBAL). */
export interface ImportRef {
  module: string;
  name: string;
  /** Stream offset of the opcode. */
  offset: number;
  opcode: 'GLOBAL' | 'INST' | 'STACK_GLOBAL';
  /** Protocol of the last PROTO opcode before it (0 if none): below 3, Python 3 renames Python 2 names. */
  proto: number;
}

export type IssueKind =
  /** An import or call whose target is not a constant (STACK_GLOBAL on a computed value, EXT codes, calling a computed object). */
  | 'dynamic-import'
  /** BUILD applied to a module or class itself: it rewrites that global at load time. */
  | 'global-mutation'
  /** A cap of the scanner (stack, memo, nesting) was reached: the rest is unknown. */
  | 'budget-exceeded';

export interface ScanIssue {
  kind: IssueKind;
  offset: number;
  message: string;
}

export interface ScanLimits {
  maxOpcodes: number;
  maxStack: number;
  maxMarks: number;
  maxMemo: number;
  /** Bytes of memoised or container-held strings kept for resolving STACK_GLOBAL. */
  maxRetainedChars: number;
  /** Largest embedded byte string kept and scanned as a nested pickle or archive. */
  maxNestedBytes: number;
  /** Inline pickles (joblib object arrays) inside one another. */
  maxFrames: number;
}

export const DEFAULT_LIMITS: ScanLimits = {
  maxOpcodes: 2_000_000_000,
  maxStack: 1_000_000,
  maxMarks: 100_000,
  maxMemo: 4_000_000,
  maxRetainedChars: 16 * 1024 * 1024,
  maxNestedBytes: 16 * 1024 * 1024,
  maxFrames: 8,
};

export interface ScanHooks {
  onImport(ref: ImportRef): void;
  onIssue(issue: ScanIssue): void;
  /** Embedded bytes that look like a pickle, zip or .npy; awaited before the scan goes on. */
  onNested?(offset: number, data: Buffer): Promise<void>;
  signal?: AbortSignal;
  /**
   * Called with the stream offset and byte of every opcode as the machine
   * starts it (once, even when a short window makes it start over). For
   * differential tests; unset, it costs one branch per opcode.
   */
  onOpcode?(offset: number, op: number): void;
  /**
   * Refuse text data lines over the line cap instead of skipping to their end:
   * for bytes that may be raw data, where a stray STRING opcode before
   * gigabytes without a newline must not cost a full read.
   */
  boundedLines?: boolean;
}

export interface PickleParse {
  /** True when the stream reached STOP (and, for joblib, every interleaved array). */
  ok: boolean;
  /** Stream offset just after STOP, or of the failure. */
  end: number;
  /**
   * Opcodes read, the failing one included: a caller deciding whether bytes
   * after a first pickle are data or a pickle that breaks off can tell a stray
   * opcode byte from a stream that ran for a while.
   */
  opcodes: number;
  error?: { offset: number; message: string; truncated: boolean };
}

/** Strings and lines longer than this are data, never a module or attribute name. */
const STR_RETAIN = 256;
/** Protocol 0 lines (GLOBAL, INST, INT, PUT…) longer than this are refused. */
const LINE_MAX = 64 * 1024;
/** Bytes a kept string costs beyond its characters (header and slot): many short ones must not slip under the budget. */
const RETAINED_STRING_OVERHEAD = 32;
/** Items a list, tuple or dict keeps for later inspection. */
const ITEMS_KEPT = 64;
/** Opcodes between two checks of the abort signal. */
const ABORT_EVERY = 1 << 20;
/** Memo indices and frame lengths past this cannot be real: no loader could allocate for them. */
const INDEX_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** An int argument as a stack value: exact when it fits a double's integers. */
function intValue(v: bigint): Value {
  return v >= -INDEX_MAX && v <= INDEX_MAX ? Number(v) : BIGINT;
}

class ParseError extends Error {
  constructor(
    readonly offset: number,
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}

const enum Req {
  Stop,
  /** Nothing to do: the loop paused (abort check, switch of inline pickle). */
  Again,
  Need,
  Skip,
  Take,
  SkipLine,
  Joblib,
}

interface Frame {
  stack: Value[];
  marks: number[];
  memo: MemoState;
  proto: number;
}

interface MemoState {
  kinds: Uint8Array;
  refs: Int32Array;
  strs: string[][];
  values: Value[];
  valueIds: Map<Value, number>;
  sparse: Map<number, Value>;
  count: number;
}

const NEWLINE = 0x0a;

/** Shared by every machine: decoding is synchronous, so one cache serves all scans in this thread. */
const STRINGS = new StringCache();
const M_EMPTY = 0;
const M_VALUE = 1;
const M_TUPLE = 2;
const M_LIST = 3;
const M_DICT = 4;
const M_INST = 5;
const M_BYTES = 6;
const M_STR = 7;
/**
 * Strings kept by memo index live in chunks of 4096 slots: one array indexed
 * by memo index turns sparse (slow, and large) once it grows, and one grown by
 * appending copies itself over and over.
 */
const STR_CHUNK_BITS = 12;
const STR_CHUNK_MASK = (1 << STR_CHUNK_BITS) - 1;
/** Entries of the table of distinct memo values past which new strings are kept by index instead. */
const TABLE_STRINGS_MAX = 8 * 1024;
/** Memo tables up to this many entries are kept for the next parse. */
const SPARE_MEMO_MAX = 1 << 20;
/**
 * The memo tables of a finished parse, handed to the next one: scanning many
 * files otherwise leaves a trail of dead tables outside the JS heap, which V8
 * collects only once tens of megabytes of them have piled up.
 */
let spareMemo: { kinds: Uint8Array; refs: Int32Array } | undefined;
const MEMO_TUPLE: Obj = { k: 'tuple', items: null };
const MEMO_LIST: Obj = { k: 'list', items: null };
const MEMO_DICT: Obj = { k: 'dict', entries: null };
const MEMO_INST: Obj = { k: 'inst', cls: OPAQUE, args: null, state: null };

/** Embedded bytes worth scanning: another pickle (PROTO), a zip (torch.save) or a .npy. */
function isNestedCandidate(b: Buffer, at: number, n: number): boolean {
  if (n < 2) return false;
  const b0 = b[at]!;
  const b1 = b[at + 1]!;
  if (b0 === OP.PROTO) return b1 <= HIGHEST_PROTOCOL;
  if (b0 === 0x50 && b1 === 0x4b) return true; // PK: zip (torch.save output)
  return b0 === 0x93 && b1 === 0x4e; // \x93NUMPY
}

/**
 * Static pickle machine: runs the opcodes of one pickle against a model of the
 * stack, the mark stack and the memo, without importing or calling anything.
 * Every import is reported through `hooks.onImport`; computed imports and
 * calls, and caps reached, through `hooks.onIssue`. Payloads are skipped in the
 * window, never copied, except embedded byte strings that look like another
 * pickle or archive (handed to `hooks.onNested`).
 */
export class PickleMachine {
  private stack: Value[] = [];
  private marks: number[] = [];
  private memoKinds: Uint8Array = new Uint8Array(1024);
  private memoRefs: Int32Array = new Int32Array(1024);
  private memoStrs: string[][] = [];
  private values: Value[] = [];
  private valueIds = new Map<Value, number>();
  /** Memo indices far beyond the dense part (LONG_BINPUT can name any 32-bit index). */
  private sparseMemo = new Map<number, Value>();
  private memoCount = 0;
  private memoFull = false;
  private proto = 0;
  private frames: Frame[] = [];
  /**
   * Container contents matter only to size joblib's interleaved arrays (state
   * dicts, shape tuples, dtype arguments). Until a joblib wrapper is imported,
   * lists, tuples and dicts are shared placeholders: no allocation per value.
   */
  private retain = false;
  private retainedChars = 0;
  private opcodes = 0;
  /**
   * Stream offset where the current FRAME ends, or -1 outside frames. An
   * opcode must lie wholly inside its frame or wholly outside: CPython's C
   * unpickler reads frames as a plain prefetch while the Python one reads
   * each frame apart, so a stream where they differ means two things at once.
   */
  private frameEnd = -1;
  /** Offset last given to `hooks.onOpcode`, so an opcode started over is traced once. */
  private traced = -1;
  // Requests from the synchronous loop to the async driver.
  private reqLen = 0;
  private reqOffset = 0;
  private reqValueBytes = false;

  constructor(
    private readonly w: Window,
    private readonly hooks: ScanHooks,
    private readonly limits: ScanLimits = DEFAULT_LIMITS,
  ) {}

  /** Opcodes executed so far. */
  get opcodeCount(): number {
    return this.opcodes;
  }

  /** Parses one pickle from the window's position up to and including its STOP. */
  async parse(): Promise<PickleParse> {
    const w = this.w;
    const start = w.offset;
    const opcodesBefore = this.opcodes;
    this.frameEnd = -1;
    this.traced = -1;
    this.stack = [];
    this.marks = [];
    this.resetMemo();
    this.memoCount = 0;
    this.memoFull = false;
    this.proto = 0;
    this.frames = [];
    this.retain = false;
    try {
      for (;;) {
        const req = this.run();
        switch (req) {
          case Req.Stop:
            return { ok: true, end: w.offset, opcodes: this.opcodes - opcodesBefore };
          case Req.Again:
            break;
          case Req.Need:
            if (!(await w.fill(this.reqLen))) {
              if (w.available === 0 && w.offset === start) throw new ParseError(w.offset, 'empty stream: no pickle here', true);
              throw new ParseError(w.offset, `the stream ends inside ${opcodeName(w.buf[w.pos]!) ?? 'an opcode'} at byte ${w.offset} (truncated pickle)`, true);
            }
            break;
          case Req.Skip:
            if (!(await w.skip(this.reqLen))) throw new ParseError(this.reqOffset, `the stream ends inside the ${this.reqLen}-byte payload that starts at byte ${this.reqOffset} (truncated pickle)`, true);
            break;
          case Req.Take: {
            const data = await w.take(this.reqLen);
            if (!data) throw new ParseError(this.reqOffset, `the stream ends inside the ${this.reqLen}-byte payload that starts at byte ${this.reqOffset} (truncated pickle)`, true);
            this.pushValue(this.reqValueBytes ? { k: 'bytes', data } : LSTR);
            await this.hooks.onNested?.(this.reqOffset, data);
            break;
          }
          case Req.SkipLine:
            await this.skipLine();
            this.pushValue(LSTR);
            break;
          case Req.Joblib:
            await this.skipJoblibArray();
            break;
        }
        if (this.hooks.signal?.aborted) this.hooks.signal.throwIfAborted();
      }
    } catch (e) {
      const opcodes = this.opcodes - opcodesBefore;
      if (e instanceof ParseError) return { ok: false, end: e.offset, opcodes, error: { offset: e.offset, message: e.message, truncated: e.truncated } };
      if (e instanceof RangeError) return { ok: false, end: w.offset, opcodes, error: { offset: w.offset, message: e.message, truncated: false } };
      throw e;
    } finally {
      this.releaseMemo();
    }
  }

  private resetMemo(): void {
    if (spareMemo) {
      ({ kinds: this.memoKinds, refs: this.memoRefs } = spareMemo);
      spareMemo = undefined;
      this.memoKinds.fill(M_EMPTY); // refs are read only where a kind says so: they need no clearing
    } else {
      this.memoKinds = new Uint8Array(1024);
      this.memoRefs = new Int32Array(1024);
    }
    this.memoStrs = [];
    this.values = [];
    this.valueIds = new Map();
    this.sparseMemo = new Map();
    this.memoCount = 0;
  }

  /** Hands the memo tables on to the next parse; this machine is done with them. */
  private releaseMemo(): void {
    const kinds = this.memoKinds;
    if (kinds.length <= SPARE_MEMO_MAX && (!spareMemo || spareMemo.kinds.length < kinds.length)) spareMemo = { kinds, refs: this.memoRefs };
    this.memoKinds = new Uint8Array(0);
    this.memoRefs = new Int32Array(0);
  }

  private saveMemo(): MemoState {
    return { kinds: this.memoKinds, refs: this.memoRefs, strs: this.memoStrs, values: this.values, valueIds: this.valueIds, sparse: this.sparseMemo, count: this.memoCount };
  }

  private restoreMemo(m: MemoState): void {
    ({ kinds: this.memoKinds, refs: this.memoRefs, strs: this.memoStrs, values: this.values, valueIds: this.valueIds, sparse: this.sparseMemo, count: this.memoCount } = m);
  }

  private async skipLine(): Promise<void> {
    const w = this.w;
    const start = w.offset - 1;
    const name = opcodeName(w.buf[w.pos - 1]!);
    for (;;) {
      const nl = w.buf.indexOf(NEWLINE, w.pos);
      if (nl >= 0 && nl < w.end) {
        if (this.frameEnd >= 0 && w.base + nl + 1 > this.frameEnd) throw this.straddleAt(start, w.base + nl + 1 - start, name);
        w.pos = nl + 1;
        return;
      }
      w.pos = w.end;
      if (!(await w.fill(1))) throw new ParseError(w.offset, `the stream ends inside a text line (truncated pickle)`, true);
    }
  }

  private async skipJoblibArray(): Promise<void> {
    const w = this.w;
    const { reqLen, reqValueBytes: padded } = this;
    let pad = 0;
    if (padded) {
      if (!(await w.fill(1))) throw new ParseError(w.offset, 'the stream ends before the padding of a joblib array (truncated file)', true);
      pad = w.buf[w.pos]!;
      w.pos++;
    }
    const at = w.offset;
    if (!(await w.skip(pad + reqLen))) throw new ParseError(at, `the stream ends inside the ${reqLen}-byte joblib array that starts at byte ${at} (truncated file)`, true);
  }

  private pushValue(v: Value): void {
    if (this.stack.length >= this.limits.maxStack) throw this.budget(`the stack holds over ${this.limits.maxStack} values`);
    this.stack.push(v);
  }

  private budget(what: string): ParseError {
    const off = this.w.offset;
    this.hooks.onIssue({ kind: 'budget-exceeded', offset: off, message: `${what} at byte ${off}; the scan stops there` });
    return new ParseError(off, `${what}; the scanner's cap was reached`);
  }

  /** Items above the last mark, removing the mark. */
  private popMark(pos: number): Value[] {
    const m = this.marks.pop();
    if (m === undefined) throw this.noMark(pos);
    return this.stack.splice(m);
  }

  // The helpers below take the opcode's position in the window, not its stream
  // offset: the offset is computed only for a message, so the hot loop never
  // materialises it (V8 boxed it on every opcode that could fail).
  private noMark(pos: number): ParseError {
    const off = this.w.base + pos;
    return new ParseError(off, `the opcode at byte ${off} needs a MARK and there is none`);
  }

  private underflow(pos: number): ParseError {
    const off = this.w.base + pos;
    return new ParseError(off, `${opcodeName(this.w.buf[pos]!) ?? 'the opcode'} at byte ${off} takes more values than the stack holds (stack underflow)`);
  }

  /** An opcode of `n` bytes at `pos` that would run past the end of its frame. */
  private straddle(pos: number, n: number): ParseError {
    return this.straddleAt(this.w.base + pos, n, opcodeName(this.w.buf[pos]!));
  }

  private straddleAt(off: number, n: number, name = 'the text opcode'): ParseError {
    return new ParseError(
      off,
      `${name} at byte ${off} (${n} bytes or more) runs past the end of its FRAME at byte ${this.frameEnd}: CPython's C and Python unpicklers read such a stream differently (one of them can run opcodes hidden in the rest of the frame), so no reading of it can be trusted`,
    );
  }

  private notUtf8(pos: number): ParseError {
    return this.malformed(pos, 'holds a str that is not UTF-8, which CPython refuses to decode');
  }

  /** `what` follows the opcode's name and offset: "LONG4 at byte 12 has a negative length". */
  private malformed(pos: number, what: string): ParseError {
    const off = this.w.base + pos;
    return new ParseError(off, `${opcodeName(this.w.buf[pos]!)} at byte ${off} ${what}`);
  }

  private fence(): number {
    const m = this.marks;
    return m.length ? m[m.length - 1]! : 0;
  }

  private pop(pos: number): Value {
    if (this.stack.length <= this.fence()) throw this.underflow(pos);
    return this.stack.pop()!;
  }

  private top(pos: number): Value {
    if (this.stack.length <= this.fence()) throw this.underflow(pos);
    return this.stack[this.stack.length - 1]!;
  }

  private keep(v: Value): Value {
    if (typeof v !== 'string') return v;
    const cost = v.length + RETAINED_STRING_OVERHEAD;
    if (this.retainedChars + cost > this.limits.maxRetainedChars) return LSTR;
    this.retainedChars += cost;
    return v;
  }

  /**
   * The memo is kept compact: a kind byte per index, and for names, numbers
   * and dtypes an index into a table of distinct values. Containers and call
   * results are remembered only by kind, so a large pickle's objects die young
   * instead of filling the heap.
   */
  private memoPut(idx: number, v: Value): void {
    if (idx >= this.memoKinds.length) {
      if (idx > this.memoKinds.length * 2 + 65536 || idx >= this.limits.maxMemo) {
        if (!this.sparseMemo.has(idx)) {
          if (this.memoCount >= this.limits.maxMemo) {
            this.memoFull = true;
            return;
          }
          this.memoCount++;
        }
        this.sparseMemo.set(idx, this.memoValue(v));
        return;
      }
      this.growMemo(idx + 1);
    }
    if (this.memoKinds[idx] === M_EMPTY) {
      if (this.memoCount >= this.limits.maxMemo) {
        this.memoFull = true;
        return;
      }
      this.memoCount++;
    }
    let kind: number;
    if (typeof v === 'object') {
      switch (v.k) {
        case 'tuple':
          kind = M_TUPLE;
          break;
        case 'list':
          kind = M_LIST;
          break;
        case 'dict':
          kind = M_DICT;
          break;
        case 'bytes':
          kind = M_BYTES;
          break;
        case 'inst':
          kind = (isGlobal(v.cls) && v.cls.name === 'dtype') || isJoblibWrapper(v) ? M_VALUE : M_INST;
          break;
        default:
          kind = M_VALUE;
      }
    } else kind = M_VALUE;
    this.memoKinds[idx] = kind;
    if (kind === M_VALUE) {
      if (typeof v !== 'string') this.memoRefs[idx] = this.intern(v);
      else {
        // Pickles memoise the same names and keys over and over: the table of
        // distinct values holds each once. It stops taking strings while still
        // small, because a lookup that misses in a big table costs more than the
        // opcode; later strings are kept by memo index.
        const id = this.valueIds.get(v);
        if (id !== undefined) this.memoRefs[idx] = id;
        else {
          const k = this.keep(v);
          if (typeof k !== 'string' || this.values.length < TABLE_STRINGS_MAX) this.memoRefs[idx] = this.intern(k);
          else {
            const chunk = (this.memoStrs[idx >> STR_CHUNK_BITS] ??= new Array<string>(1 << STR_CHUNK_BITS));
            chunk[idx & STR_CHUNK_MASK] = k;
            this.memoKinds[idx] = M_STR;
          }
        }
      }
    }
  }

  private growMemo(min: number): void {
    let n = this.memoKinds.length;
    while (n < min) n *= 2;
    const kinds = new Uint8Array(n);
    kinds.set(this.memoKinds);
    const refs = new Int32Array(n);
    refs.set(this.memoRefs);
    this.memoKinds = kinds;
    this.memoRefs = refs;
  }

  private intern(v: Value): number {
    let id = this.valueIds.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.valueIds.set(v, id);
    }
    return id;
  }

  /** What the memo gives back for a value stored outside the dense part. */
  private memoValue(v: Value): Value {
    if (typeof v === 'number') return v;
    if (typeof v === 'string') return this.keep(v);
    switch (v.k) {
      case 'tuple':
        return MEMO_TUPLE;
      case 'list':
        return MEMO_LIST;
      case 'dict':
        return MEMO_DICT;
      case 'inst':
        return (isGlobal(v.cls) && v.cls.name === 'dtype') || isJoblibWrapper(v) ? v : MEMO_INST;
      case 'bytes':
        return BYTES;
      default:
        return v;
    }
  }

  private memoGet(idx: number, pos: number): Value {
    if (idx < this.memoKinds.length) {
      switch (this.memoKinds[idx]) {
        case M_VALUE:
          return this.values[this.memoRefs[idx]!]!;
        case M_STR:
          return this.memoStrs[idx >> STR_CHUNK_BITS]![idx & STR_CHUNK_MASK]!;
        case M_TUPLE:
          return MEMO_TUPLE;
        case M_LIST:
          return MEMO_LIST;
        case M_DICT:
          return MEMO_DICT;
        case M_INST:
          return MEMO_INST;
        case M_BYTES:
          return BYTES;
      }
    } else {
      const v = this.sparseMemo.get(idx);
      if (v !== undefined) return v;
    }
    if (this.memoFull) return OPAQUE;
    const off = this.w.base + pos;
    throw new ParseError(off, `memo entry ${idx} read at byte ${off} was never stored`);
  }

  private import(module: string, name: string, off: number, opcode: ImportRef['opcode']): Obj {
    this.hooks.onImport({ module, name, offset: off, opcode, proto: this.proto });
    if (!this.retain && RETAIN_FROM.has(`${module}.${name}`)) this.retain = true;
    return { k: 'global', module, name, offset: off };
  }

  private call(cls: Value, args: Value | null, pos: number, opname: string): Obj {
    if (!isGlobal(cls)) {
      const off = this.w.base + pos;
      this.hooks.onIssue({
        kind: 'dynamic-import',
        offset: off,
        message: `${opname} at byte ${off} calls ${describe(cls)} instead of a global the pickle names, so what runs is computed at load time and cannot be checked; a model file should call only classes and functions it imports by name — re-save it from trusted code, or as safetensors`,
      });
    }
    return this.retain ? { k: 'inst', cls, args, state: null } : MEMO_INST;
  }

  /** Tuples are kept when joblib needs them, and for PyTorch's `('module', cls, …)` persistent ids. */
  private tuple(items: Value[]): Obj {
    return this.retain || items[0] === 'module' ? { k: 'tuple', items: items.length <= ITEMS_KEPT ? items : null } : MEMO_TUPLE;
  }

  /**
   * The synchronous hot loop: executes opcodes while their arguments are in the
   * window and returns what the driver must do next.
   */
  private run(): Req {
    const w = this.w;
    const buf = w.buf;
    const base = w.base;
    // Inside a frame the loop sees the frame's end as the end of the window:
    // an opcode that does not fit asks for more through need(), which tells a
    // frame crossing from a short window.
    let end = this.frameEnd >= 0 && this.frameEnd - base < w.end ? this.frameEnd - base : w.end;
    let pos = w.pos;
    const limits = this.limits;
    const stack = this.stack;
    const trace = this.hooks.onOpcode;
    // Opcodes are counted in a local and added to the total on the way out: a
    // field updated on every opcode costs more than the opcode itself.
    const room = limits.maxOpcodes - this.opcodes;
    const slice = Math.min(ABORT_EVERY, room);
    let done = 0;
    try {
      for (;;) {
        if (pos >= end) {
          if (base + pos === this.frameEnd) {
            // The frame is used up: what follows is outside any frame.
            this.frameEnd = -1;
            end = w.end;
            continue;
          }
          this.reqLen = 1;
          return Req.Need;
        }
        if (done === slice) {
          if (done === room) throw this.budget(`the pickle has over ${limits.maxOpcodes} opcodes`);
          return Req.Again; // lets the driver check the abort signal
        }
        done++;
        const op = buf[pos]!;
        if (trace !== undefined && base + pos !== this.traced) {
          this.traced = base + pos;
          trace(base + pos, op);
        }
        switch (op) {
          case OP.PROTO: {
            if (pos + 2 > end) return this.need(pos, 2);
            const p = buf[pos + 1]!;
            if (p > HIGHEST_PROTOCOL) throw new ParseError(base + pos, `unsupported pickle protocol ${p} at byte ${base + pos}`);
            this.proto = p;
            pos += 2;
            break;
          }
          case OP.FRAME: {
            if (pos + 9 > end) return this.need(pos, 9);
            if (this.frameEnd >= 0) throw this.malformed(pos, `opens a frame inside the frame that ends at byte ${this.frameEnd}; picklers never nest frames, and CPython's two unpicklers read nested ones differently`);
            const hi = buf.readUInt32LE(pos + 5);
            if (hi >= 0x200000) throw this.malformed(pos, 'declares a frame longer than any file');
            pos += 9;
            this.frameEnd = base + pos + hi * 0x100000000 + buf.readUInt32LE(pos - 8);
            if (this.frameEnd - base < end) end = this.frameEnd - base;
            break;
          }
          case OP.STOP: {
            const v = this.pop(pos);
            if (this.frameEnd >= 0) {
              // Picklers end the last frame right after STOP. Bytes left in it are read by
              // no unpickler, and where the next pickle starts would depend on which one runs.
              if (base + pos + 1 !== this.frameEnd) throw this.malformed(pos, `ends the pickle ${this.frameEnd - base - pos - 1} bytes before the end of its frame (byte ${this.frameEnd})`);
              this.frameEnd = -1;
            }
            pos += 1;
            const frame = this.frames.pop();
            if (!frame) {
              w.pos = pos;
              return Req.Stop;
            }
            // End of an inline pickle (joblib object array): back to the outer one.
            ({ stack: this.stack, marks: this.marks, proto: this.proto } = frame);
            this.restoreMemo(frame.memo);
            w.pos = pos;
            this.pushValue(typeof v === 'object' ? v : OPAQUE);
            return Req.Again;
          }
          case OP.MARK:
            if (this.marks.length >= limits.maxMarks) throw this.budget(`over ${limits.maxMarks} nested MARKs`);
            this.marks.push(stack.length);
            pos += 1;
            break;
          case OP.POP: {
            const m = this.marks.length ? this.marks[this.marks.length - 1] : -1;
            if (m === stack.length) this.marks.pop();
            else this.pop(pos);
            pos += 1;
            break;
          }
          case OP.POP_MARK:
            this.popMark(pos);
            pos += 1;
            break;
          case OP.DUP:
            this.pushValue(this.top(pos));
            pos += 1;
            break;
          // --- numbers and constants
          case OP.NONE:
            if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
            stack.push(NONE);
            pos += 1;
            break;
          case OP.NEWTRUE:
          case OP.NEWFALSE:
            this.pushValue(BOOL);
            pos += 1;
            break;
          case OP.BININT1:
            if (pos + 2 > end) return this.need(pos, 2);
            if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
            stack.push(buf[pos + 1]!);
            pos += 2;
            break;
          case OP.BININT2:
            if (pos + 3 > end) return this.need(pos, 3);
            this.pushValue(buf.readUInt16LE(pos + 1));
            pos += 3;
            break;
          case OP.BININT:
            if (pos + 5 > end) return this.need(pos, 5);
            if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
            stack.push(buf[pos + 1]! | (buf[pos + 2]! << 8) | (buf[pos + 3]! << 16) | (buf[pos + 4]! << 24));
            pos += 5;
            break;
          case OP.BINFLOAT:
            if (pos + 9 > end) return this.need(pos, 9);
            if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
            stack.push(FLOAT);
            pos += 9;
            break;
          case OP.LONG1: {
            if (pos + 2 > end) return this.need(pos, 2);
            const n = buf[pos + 1]!;
            if (pos + 2 + n > end) return this.need(pos, 2 + n);
            this.pushValue(n === 0 ? 0 : n <= 6 ? buf.readIntLE(pos + 2, n) : BIGINT);
            pos += 2 + n;
            break;
          }
          case OP.LONG4: {
            const off = base + pos;
            if (pos + 5 > end) return this.need(pos, 5);
            const n = buf.readInt32LE(pos + 1);
            if (n < 0) throw this.malformed(pos, 'has a negative length');
            if (this.frameEnd >= 0 && off + 5 + n > this.frameEnd) throw this.straddle(pos, 5 + n);
            w.pos = pos + 5;
            this.pushValue(BIGINT);
            return this.skip(off + 5, n);
          }
          case OP.INT:
          case OP.LONG:
          case OP.FLOAT: {
            const nl = buf.indexOf(NEWLINE, pos + 1);
            if (nl < 0 || nl >= end) return this.lineNeed(pos, op !== OP.FLOAT);
            if (op === OP.FLOAT) {
              if (!isFloatArg(buf, pos + 1, nl)) throw this.malformed(pos, 'has an argument that CPython does not read as a float');
              this.pushValue(FLOAT);
            } else if (op === OP.INT) {
              const r = parseIntArg(buf, pos + 1, nl);
              if (r === undefined) throw this.malformed(pos, 'has an argument that CPython does not read as an integer');
              this.pushValue(r.bool ? BOOL : intValue(r.value));
            } else {
              const v = parseLongArg(buf, pos + 1, nl);
              if (v === undefined) throw this.malformed(pos, 'has an argument that CPython does not read as an integer');
              this.pushValue(intValue(v));
            }
            pos = nl + 1;
            break;
          }
          // --- strings and bytes
          case OP.SHORT_BINUNICODE: {
            // The commonest string opcode of protocol 4 and 5, decoded in place.
            if (pos + 2 > end) return this.need(pos, 2);
            const n = buf[pos + 1]!;
            if (pos + 2 + n > end) return this.need(pos, 2 + n);
            if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
            const s = STRINGS.decode(buf, pos + 2, n);
            if (s === undefined) throw this.notUtf8(pos);
            stack.push(s);
            pos += 2 + n;
            break;
          }
          case OP.SHORT_BINSTRING:
          case OP.SHORT_BINBYTES: {
            if (pos + 2 > end) return this.need(pos, 2);
            const r = this.payload(pos, 2, buf[pos + 1]!, op);
            if (r !== undefined) return r;
            pos = w.pos;
            break;
          }
          case OP.BINUNICODE: {
            // Protocols 1–3 write every str this way; short ones are decoded in place.
            if (pos + 5 > end) return this.need(pos, 5);
            const n = buf.readUInt32LE(pos + 1);
            if (n <= STR_RETAIN) {
              if (pos + 5 + n > end) return this.need(pos, 5 + n);
              if (stack.length >= limits.maxStack) throw this.budget(`the stack holds over ${limits.maxStack} values`);
              const s = STRINGS.decode(buf, pos + 5, n);
              if (s === undefined) throw this.notUtf8(pos);
              stack.push(s);
              pos += 5 + n;
              break;
            }
            const r = this.payload(pos, 5, n, op);
            if (r !== undefined) return r;
            pos = w.pos;
            break;
          }
          case OP.BINSTRING:
          case OP.BINBYTES: {
            if (pos + 5 > end) return this.need(pos, 5);
            // Unsigned for BINSTRING too: that is how _pickle.c reads it (pickle.py and pickletools refuse a length over 2**31 - 1).
            const r = this.payload(pos, 5, buf.readUInt32LE(pos + 1), op);
            if (r !== undefined) return r;
            pos = w.pos;
            break;
          }
          case OP.BINUNICODE8:
          case OP.BINBYTES8:
          case OP.BYTEARRAY8: {
            if (pos + 9 > end) return this.need(pos, 9);
            const n = Number(buf.readBigUInt64LE(pos + 1));
            if (!Number.isSafeInteger(n)) throw this.malformed(pos, 'declares an impossible length');
            const r = this.payload(pos, 9, n, op);
            if (r !== undefined) return r;
            pos = w.pos;
            break;
          }
          case OP.STRING:
          case OP.UNICODE: {
            const nl = buf.indexOf(NEWLINE, pos + 1);
            if (nl < 0 || nl >= end) {
              if (end - pos > STR_RETAIN * 4 && (w.eof || end - pos >= w.buf.length) && !this.hooks.boundedLines) {
                w.pos = pos + 1;
                return Req.SkipLine;
              }
              return this.lineNeed(pos, true);
            }
            if (nl - pos - 1 > STR_RETAIN * 4) {
              if (!(op === OP.UNICODE ? isValidRawUnicodeEscape(buf, pos + 1, nl) : isValidStringRepr(buf, pos + 1, nl))) throw this.malformed(pos, 'has a malformed argument');
              this.pushValue(LSTR);
            } else {
              const raw = buf.toString('latin1', pos + 1, nl);
              const s = op === OP.UNICODE ? decodeRawUnicodeEscape(raw) : decodeStringRepr(raw);
              if (s === undefined) throw this.malformed(pos, 'has a malformed argument');
              this.pushValue(s.length <= STR_RETAIN ? s : LSTR);
            }
            pos = nl + 1;
            break;
          }
          // --- containers
          case OP.EMPTY_LIST:
            this.pushValue(this.retain ? { k: 'list', items: [] } : MEMO_LIST);
            pos += 1;
            break;
          case OP.EMPTY_DICT:
            this.pushValue(this.retain ? { k: 'dict', entries: [] } : MEMO_DICT);
            pos += 1;
            break;
          case OP.EMPTY_TUPLE:
            this.pushValue(this.retain ? { k: 'tuple', items: [] } : MEMO_TUPLE);
            pos += 1;
            break;
          case OP.EMPTY_SET:
            this.pushValue({ k: 'set' });
            pos += 1;
            break;
          case OP.TUPLE1:
          case OP.TUPLE2:
          case OP.TUPLE3: {
            const n = op - OP.TUPLE1 + 1;
            if (stack.length - this.fence() < n) throw this.underflow(pos);
            const c = stack.pop()!;
            const b = n >= 2 ? stack.pop()! : c;
            const a = n === 3 ? stack.pop()! : b;
            // A ('module', cls) persistent id is kept like under retain (see tuple()).
            stack.push(this.retain || a === 'module' ? { k: 'tuple', items: n === 1 ? [c] : n === 2 ? [b, c] : [a, b, c] } : MEMO_TUPLE);
            pos += 1;
            break;
          }
          case OP.TUPLE:
            this.pushValue(this.tuple(this.popMark(pos)));
            pos += 1;
            break;
          case OP.LIST: {
            const items = this.popMark(pos);
            this.pushValue(this.retain ? { k: 'list', items: items.slice(0, ITEMS_KEPT).map((v) => this.keep(v)) } : MEMO_LIST);
            pos += 1;
            break;
          }
          case OP.DICT: {
            const kv = this.popMark(pos);
            if (kv.length % 2 !== 0) throw this.malformed(pos, 'has an odd number of items');
            this.pushValue(this.retain ? { k: 'dict', entries: kv.slice(0, ITEMS_KEPT * 2).map((v) => this.keep(v)) } : MEMO_DICT);
            pos += 1;
            break;
          }
          case OP.FROZENSET:
            this.popMark(pos);
            this.pushValue({ k: 'set' });
            pos += 1;
            break;
          case OP.APPEND: {
            if (stack.length - this.fence() < 2) throw this.underflow(pos);
            const v = stack.pop()!;
            const l = stack[stack.length - 1]!;
            if (typeof l === 'object' && l.k === 'list' && l.items && l.items.length < ITEMS_KEPT) l.items.push(this.keep(v));
            pos += 1;
            break;
          }
          case OP.APPENDS:
          case OP.ADDITEMS: {
            // In place of popMark: the items are dropped, not copied out (batches of 1000 are the norm).
            const m = this.marks.pop();
            if (m === undefined) throw this.noMark(pos);
            if (m <= this.fence()) throw this.underflow(pos);
            const l = stack[m - 1]!;
            if (typeof l === 'object' && l.k === 'list' && l.items) {
              for (let i = m; i < stack.length && l.items.length < ITEMS_KEPT; i++) l.items.push(this.keep(stack[i]!));
            }
            while (stack.length > m) stack.pop(); // cheaper than shrinking through `length`
            pos += 1;
            break;
          }
          case OP.SETITEM: {
            if (stack.length - this.fence() < 3) throw this.underflow(pos);
            const v = stack.pop()!;
            const k = stack.pop()!;
            const d = stack[stack.length - 1]!;
            if (typeof d === 'object' && d.k === 'dict' && d.entries && d.entries.length < ITEMS_KEPT * 2) d.entries.push(this.keep(k), this.keep(v));
            pos += 1;
            break;
          }
          case OP.SETITEMS: {
            const m = this.marks.pop();
            if (m === undefined) throw this.noMark(pos);
            if (m <= this.fence()) throw this.underflow(pos);
            if ((stack.length - m) % 2 !== 0) throw this.malformed(pos, 'has an odd number of items');
            const d = stack[m - 1]!;
            if (typeof d === 'object' && d.k === 'dict' && d.entries) {
              for (let i = m; i + 1 < stack.length && d.entries.length < ITEMS_KEPT * 2; i += 2) d.entries.push(this.keep(stack[i]!), this.keep(stack[i + 1]!));
            }
            while (stack.length > m) stack.pop(); // cheaper than shrinking through `length`
            pos += 1;
            break;
          }
          // --- memo
          case OP.PUT:
          case OP.GET: {
            const nl = buf.indexOf(NEWLINE, pos + 1);
            if (nl < 0 || nl >= end) return this.lineNeed(pos, false);
            const idx = parseMemoIndexArg(buf, pos + 1, nl);
            if (idx === undefined) throw this.malformed(pos, 'has a memo index that CPython does not read as an integer');
            if (op === OP.PUT) {
              const v = this.top(pos);
              if (idx < 0n) throw this.malformed(pos, 'stores to a negative memo index');
              if (idx > INDEX_MAX) throw this.malformed(pos, 'stores to a memo index larger than any loader can allocate');
              this.memoPut(Number(idx), v);
            } else if (idx < 0n || idx > INDEX_MAX) {
              const off = base + pos;
              throw new ParseError(off, `memo entry ${idx} read at byte ${off} was never stored`);
            } else this.pushValue(this.memoGet(Number(idx), pos));
            pos = nl + 1;
            break;
          }
          case OP.BINPUT:
            if (pos + 2 > end) return this.need(pos, 2);
            if (stack.length <= this.fence()) throw this.underflow(pos);
            this.memoPut(buf[pos + 1]!, stack[stack.length - 1]!);
            pos += 2;
            break;
          case OP.LONG_BINPUT:
            if (pos + 5 > end) return this.need(pos, 5);
            this.memoPut(buf.readUInt32LE(pos + 1), this.top(pos));
            pos += 5;
            break;
          case OP.MEMOIZE:
            if (stack.length <= this.fence()) throw this.underflow(pos);
            this.memoPut(this.memoCount, stack[stack.length - 1]!);
            pos += 1;
            break;
          case OP.BINGET:
            if (pos + 2 > end) return this.need(pos, 2);
            this.pushValue(this.memoGet(buf[pos + 1]!, pos));
            pos += 2;
            break;
          case OP.LONG_BINGET:
            if (pos + 5 > end) return this.need(pos, 5);
            this.pushValue(this.memoGet(buf.readUInt32LE(pos + 1), pos));
            pos += 5;
            break;
          // --- imports and calls
          case OP.GLOBAL:
          case OP.INST: {
            const off = base + pos;
            const nl1 = buf.indexOf(NEWLINE, pos + 1);
            if (nl1 < 0 || nl1 >= end) return this.lineNeed(pos, false);
            const nl2 = buf.indexOf(NEWLINE, nl1 + 1);
            if (nl2 < 0 || nl2 >= end) return this.lineNeed(pos, false);
            if (nl1 === pos + 1 || nl2 === nl1 + 1) throw this.malformed(pos, 'has an empty module or name');
            // CPython decodes GLOBAL's lines as strict UTF-8 and INST's as ASCII, and fails on anything else.
            const module = op === OP.GLOBAL ? decodeUtf8Strict(buf, pos + 1, nl1) : isAscii(buf, pos + 1, nl1) ? buf.toString('latin1', pos + 1, nl1) : undefined;
            const name = op === OP.GLOBAL ? decodeUtf8Strict(buf, nl1 + 1, nl2) : isAscii(buf, nl1 + 1, nl2) ? buf.toString('latin1', nl1 + 1, nl2) : undefined;
            if (module === undefined || name === undefined) throw this.malformed(pos, op === OP.GLOBAL ? 'names a module or attribute that is not valid UTF-8' : 'names a module or class that is not ASCII');
            const g = this.import(module, name, off, op === OP.GLOBAL ? 'GLOBAL' : 'INST');
            if (op === OP.GLOBAL) this.pushValue(g);
            else this.pushValue(this.call(g, this.tuple(this.popMark(pos)), pos, 'INST'));
            pos = nl2 + 1;
            break;
          }
          case OP.STACK_GLOBAL: {
            const off = base + pos;
            const name = this.pop(pos);
            const module = this.pop(pos);
            if (typeof module === 'string' && typeof name === 'string') this.pushValue(this.import(module, name, off, 'STACK_GLOBAL'));
            else {
              this.hooks.onIssue({
                kind: 'dynamic-import',
                offset: off,
                message: `STACK_GLOBAL at byte ${off} takes its module from ${describe(module)} and its name from ${describe(name)} instead of two plain strings, so the import is computed at load time and cannot be checked; re-save the model from trusted code, or as safetensors`,
              });
              this.pushValue({ k: 'global', module: '?', name: '?', offset: off });
            }
            pos += 1;
            break;
          }
          case OP.EXT1:
          case OP.EXT2:
          case OP.EXT4: {
            const off = base + pos;
            const n = op === OP.EXT1 ? 1 : op === OP.EXT2 ? 2 : 4;
            if (pos + 1 + n > end) return this.need(pos, 1 + n);
            const code = buf.readUIntLE(pos + 1, n);
            this.hooks.onIssue({
              kind: 'dynamic-import',
              offset: off,
              message: `${opcodeName(op)} at byte ${off} imports whatever global is registered as extension code ${code} in copyreg; the file does not name it, so what it imports cannot be checked — re-save the model without copyreg extension codes, or as safetensors`,
            });
            this.pushValue({ k: 'global', module: '?', name: `copyreg extension ${code}`, offset: off });
            pos += 1 + n;
            break;
          }
          case OP.REDUCE: {
            const args = this.pop(pos);
            const fn = this.pop(pos);
            this.pushValue(this.call(fn, args, pos, 'REDUCE'));
            pos += 1;
            break;
          }
          case OP.NEWOBJ: {
            const args = this.pop(pos);
            const cls = this.pop(pos);
            this.pushValue(this.call(cls, args, pos, 'NEWOBJ'));
            pos += 1;
            break;
          }
          case OP.NEWOBJ_EX: {
            this.pop(pos); // kwargs
            const args = this.pop(pos);
            const cls = this.pop(pos);
            this.pushValue(this.call(cls, args, pos, 'NEWOBJ_EX'));
            pos += 1;
            break;
          }
          case OP.OBJ: {
            const items = this.popMark(pos);
            const cls = items.shift();
            if (cls === undefined) throw this.malformed(pos, 'has no class');
            this.pushValue(this.call(cls, this.tuple(items), pos, 'OBJ'));
            pos += 1;
            break;
          }
          case OP.BUILD: {
            const state = this.pop(pos);
            const inst = this.top(pos);
            if (isGlobal(inst)) {
              const off = base + pos;
              this.hooks.onIssue({
                kind: 'global-mutation',
                offset: off,
                message: `BUILD at byte ${off} sets attributes on ${inst.module}.${inst.name} itself, rewriting that module or class at load time (code elsewhere then runs the replacement); a model file never needs this, so do not load it`,
              });
            } else if (isInst(inst) && inst !== MEMO_INST) {
              // MEMO_INST is a shared placeholder: nothing to record on it.
              if (isJoblibWrapper(inst)) {
                // Every BUILD on a wrapper (also one fetched from the memo) makes joblib read an array.
                inst.state = wrapperStateAfterBuild(inst.state, state);
                if (this.frameEnd >= 0) {
                  // joblib reads the array from the file, past the frame: only a frame that ends here reads the same both ways.
                  if (base + pos + 1 !== this.frameEnd) throw this.malformed(pos, `is followed by joblib array bytes ${this.frameEnd - base - pos - 1} bytes before the end of its frame (byte ${this.frameEnd})`);
                  this.frameEnd = -1;
                }
                w.pos = pos + 1;
                return this.joblib(inst, base + pos);
              }
              inst.state = state;
            } else if (inst === OPAQUE && this.memoFull && this.retain) {
              // A wrapper the full memo dropped would come back as OPAQUE, and joblib reads an array after its BUILD.
              throw this.budget(`BUILD at byte ${base + pos} applies to an object the full memo did not keep, which may be a joblib array wrapper`);
            }
            pos += 1;
            break;
          }
          // --- persistent ids and out-of-band buffers
          case OP.PERSID: {
            const nl = buf.indexOf(NEWLINE, pos + 1);
            if (nl < 0 || nl >= end) return this.lineNeed(pos, true);
            if (!isAscii(buf, pos + 1, nl)) throw this.malformed(pos, 'has a persistent id that is not ASCII');
            this.pushValue(OPAQUE);
            pos = nl + 1;
            break;
          }
          case OP.BINPERSID:
            this.pushValue(persistentLoad(this.pop(pos)));
            pos += 1;
            break;
          case OP.NEXT_BUFFER:
            this.pushValue(OPAQUE);
            pos += 1;
            break;
          case OP.READONLY_BUFFER:
            this.top(pos);
            pos += 1;
            break;
          default:
            throw new ParseError(base + pos, `byte 0x${op.toString(16).padStart(2, '0')} at offset ${base + pos} is not a pickle opcode`);
        }
      }
    } finally {
      this.opcodes += done;
      if (w.pos < pos) w.pos = pos;
    }
  }

  /** The opcode at `pos` is not all in the window: it runs again, and counts then, once `n` bytes are. */
  private need(pos: number, n: number): Req {
    if (this.frameEnd >= 0 && this.w.base + pos + n > this.frameEnd) throw this.straddle(pos, n);
    this.opcodes--;
    this.w.pos = pos;
    this.reqLen = n;
    return Req.Need;
  }

  private skip(off: number, n: number): Req {
    this.reqOffset = off;
    this.reqLen = n;
    return Req.Skip;
  }

  /** A text argument not yet complete in the window. */
  private lineNeed(pos: number, data: boolean): Req {
    const w = this.w;
    // No newline before the frame's end, and the frame ends inside the window: the line crosses it.
    if (this.frameEnd >= 0 && this.frameEnd <= w.base + w.end) throw this.straddle(pos, this.frameEnd - w.base - pos + 1);
    const have = w.end - pos;
    if (have > LINE_MAX && (!data || this.hooks.boundedLines)) throw new ParseError(w.base + pos, `${opcodeName(w.buf[pos]!)} at byte ${w.base + pos} has a text argument longer than ${LINE_MAX} bytes`);
    if (data && have > LINE_MAX && !this.hooks.boundedLines) {
      w.pos = pos + 1;
      return Req.SkipLine;
    }
    return this.need(pos, have + 1);
  }

  /**
   * A length-prefixed payload (`head` bytes of opcode and length, then `n`
   * bytes). Short strings are decoded; everything else is skipped unless it
   * looks like an embedded pickle or archive. Returns a request, or undefined
   * with `w.pos` past the payload.
   */
  private payload(pos: number, head: number, n: number, op: number): Req | undefined {
    const w = this.w;
    const buf = w.buf;
    const at = pos + head;
    const off = w.base + pos;
    const isStr = op === OP.SHORT_BINUNICODE || op === OP.BINUNICODE || op === OP.BINUNICODE8;
    const isLegacyStr = op === OP.SHORT_BINSTRING || op === OP.BINSTRING;
    if (this.frameEnd >= 0 && off + head + n > this.frameEnd) throw this.straddle(pos, head + n);
    if (isStr && n <= STR_RETAIN) {
      if (at + n > w.end) return this.need(pos, head + n);
      const s = STRINGS.decode(buf, at, n);
      if (s === undefined) throw this.notUtf8(pos);
      this.pushValue(s);
      w.pos = at + n;
      return undefined;
    }
    const peek = Math.min(n, 4);
    if (at + peek > w.end) return this.need(pos, head + peek);
    if (!isStr && n <= this.limits.maxNestedBytes && isNestedCandidate(buf, at, peek) && this.hooks.onNested) {
      w.pos = at;
      this.reqOffset = w.base + at;
      this.reqLen = n;
      this.reqValueBytes = !isLegacyStr;
      return Req.Take;
    }
    if (isLegacyStr && n <= STR_RETAIN) {
      if (at + n > w.end) return this.need(pos, head + n);
      this.pushValue(buf.toString('latin1', at, at + n));
      w.pos = at + n;
      return undefined;
    }
    this.pushValue(isStr || isLegacyStr ? LSTR : BYTES);
    w.pos = at;
    // Strings too long to keep are still checked while they are in the window (not ones skipped unread).
    if (isStr && at + n <= w.end && !isUtf8(buf.subarray(at, at + n)) && !isUtf8SurrogatePass(buf, at, at + n)) throw this.notUtf8(pos);
    if (at + n <= w.end) {
      w.pos = at + n;
      return undefined;
    }
    return this.skip(w.base + at, n);
  }

  /** After BUILD on a joblib NumpyArrayWrapper: its array bytes (or an inline pickle) follow in the stream. */
  private joblib(inst: Extract<Obj, { k: 'inst' }>, off: number): Req {
    const size = arrayByteLength(inst.state);
    if (size.kind === 'unknown') throw new ParseError(off, `the joblib array wrapper built at byte ${off} has a state mlgate cannot size (${size.reason}), so the bytes after it cannot be skipped safely`);
    if (size.kind === 'object') {
      // joblib writes object arrays as a separate protocol-2 pickle right here.
      if (this.frames.length >= this.limits.maxFrames) throw this.budget(`over ${this.limits.maxFrames} nested joblib object arrays`);
      this.stack.pop();
      this.frames.push({ stack: this.stack, marks: this.marks, memo: this.saveMemo(), proto: this.proto });
      this.stack = [];
      this.marks = [];
      this.proto = 0; // joblib reads it with a fresh unpickler
      this.resetMemo();
      return Req.Again;
    }
    this.reqLen = size.bytes;
    this.reqValueBytes = size.padded;
    return Req.Joblib;
  }
}
