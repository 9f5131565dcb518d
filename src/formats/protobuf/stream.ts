import type protobuf from 'protobufjs/light.js';
import { readRange, type RandomAccess } from '../pickle/source.js';

/**
 * Decodes a protobuf message straight from a file, driven by a protobufjs
 * type: only the fields the type declares are read, every other field is
 * skipped by its length without being read (a 2 GiB ONNX file's weights cost
 * nothing). Messages of the types in `stream` are handed to a callback one at
 * a time instead of being kept, so memory follows the largest node, not the
 * graph. Depth, messages, string sizes and bytes read are capped: a hostile
 * file ends in a ProtoError, never a hang or an allocation it chose.
 */

export class ProtoError extends Error {
  override name = 'ProtoError';
  constructor(
    message: string,
    /** A cap was reached (as opposed to bytes that are not a valid message). */
    readonly budget = false,
  ) {
    super(message);
  }
}

export interface ProtoLimits {
  maxDepth: number;
  maxMessages: number;
  /** Longest string or bytes field that is read. */
  maxString: number;
}

export const DEFAULT_PROTO_LIMITS: ProtoLimits = { maxDepth: 64, maxMessages: 2_000_000, maxString: 64 * 1024 * 1024 };

export type ProtoObject = Record<string, unknown> & { $offset: number };

export interface DecodeOptions {
  limits?: Partial<ProtoLimits>;
  /** Type names whose messages go to `onMessage` instead of into their parent. */
  stream?: ReadonlySet<string>;
  onMessage?: (type: string, msg: ProtoObject) => void;
  check?: () => void;
}

const BLOCK = 64 * 1024;

class Cursor {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  constructor(private readonly ra: RandomAccess) {}

  /** Whether `[pos, pos + n)` is buffered (or the buffer runs to the end of the file). */
  has(pos: number, n: number): boolean {
    const end = this.start + this.buf.length;
    return pos >= this.start && (pos + n <= end || end >= this.ra.size);
  }

  async fill(pos: number, n: number): Promise<void> {
    this.buf = await readRange(this.ra, pos, Math.max(BLOCK, n));
    this.start = pos;
  }
}

const SCALAR_WIRE: Record<string, number> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0, enum: 0,
  fixed64: 1, sfixed64: 1, double: 1, fixed32: 5, sfixed32: 5, float: 5, string: 2, bytes: 2,
};

/** Sub-messages up to this size are read into the buffer whole and decoded without awaiting. */
const WHOLE_MAX = 1024 * 1024;

/** A request from the decoder for `[pos, pos + n)` to be buffered. */
type Need = readonly [pos: number, n: number];

/** Decodes the message of `type` held in `[start, end)` of `ra`. */
export async function decodeMessage(ra: RandomAccess, start: number, end: number, type: protobuf.Type, opts: DecodeOptions = {}): Promise<ProtoObject> {
  const limits = { ...DEFAULT_PROTO_LIMITS, ...opts.limits };
  const cur = new Cursor(ra);
  let messages = 0;
  if (end > ra.size) throw new ProtoError(`the message claims ${end} bytes but the file has ${ra.size}`);

  /** A varint at `at` (buffered by the caller), as a number (exact to 2^53) and the offset after it; at most 10 bytes, none past `stop`. */
  const varint = (at: number, stop: number): [number, number] => {
    const b = cur.buf;
    let i = at - cur.start;
    let value = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++, i++) {
      if (at + k >= stop || i >= b.length) throw new ProtoError(`a varint at byte ${at} runs past the end of its message (truncated file?)`);
      const x = b[i]!;
      value += (x & 0x7f) * mul;
      mul *= 128;
      if ((x & 0x80) === 0) return [value, at + k + 1];
    }
    throw new ProtoError(`a varint at byte ${at} is longer than 10 bytes`);
  };

  // A generator, so one decoder serves both cases: it yields when bytes are not buffered, and a
  // sub-message read into the buffer whole decodes without a single await.
  function* decode(t: protobuf.Type, from: number, to: number, depth: number): Generator<Need, ProtoObject, void> {
    opts.check?.();
    if (depth > limits.maxDepth) throw new ProtoError(`messages nest deeper than ${limits.maxDepth}`, true);
    if (++messages > limits.maxMessages) throw new ProtoError(`the file holds over ${limits.maxMessages} messages`, true);
    const out: ProtoObject = { $offset: from };
    let pos = from;
    while (pos < to) {
      const tagAt = pos;
      // A tag and a varint or a length: at most 20 bytes.
      if (!cur.has(pos, 20)) yield [pos, 20];
      let key: number;
      [key, pos] = varint(pos, to);
      const wire = key % 8;
      const id = Math.floor(key / 8);
      if (id === 0) throw new ProtoError(`field number 0 at byte ${tagAt}`);
      let len = 0;
      let valueAt = pos;
      switch (wire) {
        case 0:
          [, pos] = varint(pos, to);
          break;
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        case 2:
          [len, valueAt] = varint(pos, to);
          pos = valueAt + len;
          break;
        default:
          // Groups (3, 4) are proto2-only and unused by TensorFlow and ONNX; they would need recursion to skip.
          throw new ProtoError(`wire type ${wire} at byte ${tagAt} is not used by this format`);
      }
      if (pos > to) throw new ProtoError(`field ${id} at byte ${tagAt} runs past the end of its message (truncated file?)`);
      const f = t.fieldsById[id];
      if (!f) continue;
      const sub = f.resolvedType;
      let value: unknown;
      if (sub && 'fieldsById' in sub) {
        if (wire !== 2) throw new ProtoError(`field ${t.name}.${f.name} at byte ${tagAt} should be a message but has wire type ${wire}`);
        if (len <= WHOLE_MAX && !cur.has(valueAt, len)) yield [valueAt, len];
        const msg = yield* decode(sub as protobuf.Type, valueAt, pos, depth + 1);
        if (opts.stream?.has(sub.name)) {
          opts.onMessage?.(sub.name, msg);
          continue;
        }
        value = msg;
      } else {
        const want = SCALAR_WIRE[f.type] ?? 0;
        if (wire !== want) throw new ProtoError(`field ${t.name}.${f.name} at byte ${tagAt} has wire type ${wire}, not ${want}`);
        if (wire === 2) {
          if (len > limits.maxString) throw new ProtoError(`field ${t.name}.${f.name} at byte ${tagAt} is ${len} bytes, over the ${limits.maxString}-byte cap`, true);
          if (!cur.has(valueAt, len)) yield [valueAt, len];
          const b = cur.buf.subarray(valueAt - cur.start, valueAt - cur.start + len);
          // Bytes are copied: the buffer they sit in is reused.
          value = f.type === 'string' ? b.toString('utf8') : Buffer.from(b);
        } else if (wire === 0) {
          [value] = varint(valueAt, to);
        } else continue;
      }
      if (!f.repeated) out[f.name] = value;
      else if (Array.isArray(out[f.name])) (out[f.name] as unknown[]).push(value);
      else out[f.name] = [value];
    }
    return out;
  }

  const gen = decode(type, start, end, 0);
  for (;;) {
    const step = gen.next();
    if (step.done) return step.value;
    await cur.fill(step.value[0], step.value[1]);
  }
}
