import type { ByteSource } from './source.js';

/**
 * Buffers of released windows, by size. Scanning many files otherwise leaves a
 * trail of dead multi-megabyte buffers that V8 frees late and the allocator
 * keeps: the process grows with the number of files instead of staying flat.
 */
const spare = new Map<number, Buffer[]>();
const SPARE_PER_SIZE = 2;
const EMPTY = Buffer.alloc(0);

/**
 * A sliding window over a stream: parsers work synchronously on `buf[pos..end)`
 * and ask for more only at the edge, so the hot loop never awaits.
 */
export class Window {
  buf: Buffer;
  pos = 0;
  end = 0;
  /** Stream offset of `buf[0]`. */
  base = 0;
  eof = false;
  /** Bytes asked of the source per read: small first (a sniff of many members stays cheap), doubling up to the window. */
  private ahead: number;

  constructor(
    readonly src: ByteSource,
    private readonly size = 1024 * 1024,
    /** The window never grows past this, whatever a parser asks for. */
    readonly maxSize = 16 * 1024 * 1024,
  ) {
    this.buf = spare.get(size)?.pop() ?? Buffer.allocUnsafe(size);
    this.ahead = Math.min(size, 4096);
  }

  /** Hands the buffer on to the next window of the same size; this window must not be used again. */
  release(): void {
    const list = spare.get(this.size) ?? [];
    if (this.buf.length === this.size && list.length < SPARE_PER_SIZE) {
      list.push(this.buf);
      spare.set(this.size, list);
    }
    this.buf = EMPTY;
    this.pos = this.end = 0;
    this.eof = true;
  }

  /** Stream offset of `pos`. */
  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** Makes at least `min` bytes available from `pos`; false when the stream ends first. */
  async fill(min: number): Promise<boolean> {
    if (this.end - this.pos >= min) return true;
    if (min > this.maxSize) throw new RangeError(`a window of ${min} bytes is over the ${this.maxSize}-byte cap`);
    if (min > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxSize, Math.max(min, this.buf.length * 2)));
      this.buf.copy(bigger, 0, this.pos, this.end);
      this.buf = bigger;
    } else if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
    }
    this.base += this.pos;
    this.end -= this.pos;
    this.pos = 0;
    while (this.end < min && !this.eof) {
      const want = Math.min(this.buf.length - this.end, Math.max(min - this.end, this.ahead));
      this.ahead = Math.min(this.buf.length, this.ahead * 2);
      const n = await this.src.read(this.buf, this.end, want);
      if (n === 0) this.eof = true;
      else this.end += n;
    }
    return this.end - this.pos >= min;
  }

  /** Advances `n` bytes, reading none of those beyond the window; false when the stream ends first. */
  async skip(n: number): Promise<boolean> {
    const inWindow = Math.min(n, this.end - this.pos);
    this.pos += inWindow;
    let left = n - inWindow;
    if (left === 0) return true;
    this.base += this.end;
    this.pos = this.end = 0;
    while (left > 0) {
      const k = await this.src.skip(left);
      if (k === 0) {
        this.eof = true;
        return false;
      }
      this.base += k;
      left -= k;
    }
    return true;
  }

  /** Copies the next `n` bytes out (for payloads that must be kept); false at a premature end. */
  async take(n: number): Promise<Buffer | undefined> {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (this.pos >= this.end && !(await this.fill(1))) return undefined;
      const k = Math.min(n - got, this.end - this.pos);
      this.buf.copy(out, got, this.pos, this.pos + k);
      this.pos += k;
      got += k;
    }
    return out;
  }
}
