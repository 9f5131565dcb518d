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
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  constructor(private readonly ra: RandomAccess) {}

  /** The byte at `pos`, reading a block when it is not buffered. */
  async byte(pos: number): Promise<number | undefined> {
    if (pos < this.bufStart || pos >= this.bufStart + this.buf.length) {
      if (pos >= this.ra.size) return undefined;
      this.buf = await readRange(this.ra, pos, BLOCK);
      this.bufStart = pos;
      if (this.buf.length === 0) return undefined;
    }
    return this.buf[pos - this.bufStart];
  }

  async bytes(pos: number, len: number): Promise<Buffer> {
    if (pos >= this.bufStart && pos + len <= this.bufStart + this.buf.length) return Buffer.from(this.buf.subarray(pos - this.bufStart, pos - this.bufStart + len));
    return readRange(this.ra, pos, len);
  }
}

const SCALAR_WIRE: Record<string, number> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0, enum: 0,
  fixed64: 1, sfixed64: 1, double: 1, fixed32: 5, sfixed32: 5, float: 5, string: 2, bytes: 2,
};

/** Decodes the message of `type` held in `[start, end)` of `ra`. */
export async function decodeMessage(ra: RandomAccess, start: number, end: number, type: protobuf.Type, opts: DecodeOptions = {}): Promise<ProtoObject> {
  const limits = { ...DEFAULT_PROTO_LIMITS, ...opts.limits };
  const cur = new Cursor(ra);
  let messages = 0;
  if (end > ra.size) throw new ProtoError(`the message claims ${end} bytes but the file has ${ra.size}`);

  const varint = async (at: number, stop: number): Promise<[number, number]> => {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (at + i >= stop) throw new ProtoError(`a varint at byte ${at} runs past the end of its message (truncated file?)`);
      const b = (await cur.byte(at + i))!;
      value += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return [value, at + i + 1];
    }
    throw new ProtoError(`a varint at byte ${at} is longer than 10 bytes`);
  };

  const decode = async (t: protobuf.Type, from: number, to: number, depth: number): Promise<ProtoObject> => {
    opts.check?.();
    if (depth > limits.maxDepth) throw new ProtoError(`messages nest deeper than ${limits.maxDepth}`, true);
    if (++messages > limits.maxMessages) throw new ProtoError(`the file holds over ${limits.maxMessages} messages`, true);
    const out: ProtoObject = { $offset: from };
    let pos = from;
    while (pos < to) {
      const tagAt = pos;
      let key: number;
      [key, pos] = await varint(pos, to);
      const wire = key % 8;
      const id = Math.floor(key / 8);
      if (id === 0) throw new ProtoError(`field number 0 at byte ${tagAt}`);
      let len = 0;
      let valueAt = pos;
      switch (wire) {
        case 0:
          [, pos] = await varint(pos, to);
          break;
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        case 2:
          [len, valueAt] = await varint(pos, to);
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
        const msg = await decode(sub as protobuf.Type, valueAt, pos, depth + 1);
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
          const b = await cur.bytes(valueAt, len);
          value = f.type === 'string' ? b.toString('utf8') : b;
        } else if (wire === 0) {
          [value] = await varint(valueAt, to);
        } else continue;
      }
      if (!f.repeated) out[f.name] = value;
      else if (Array.isArray(out[f.name])) (out[f.name] as unknown[]).push(value);
      else out[f.name] = [value];
    }
    return out;
  };

  return decode(type, start, end, 0);
}
