import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { setImmediate } from 'node:timers';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { countHashed } from './hash.js';

/**
 * One read size for every worker. Sequential reads keep hashing I/O-bound (DESIGN §10), and 1 MiB stays in
 * the CPU cache between the copy from the page cache and the hash: measured on the 2 GiB benchmark, 1 MiB
 * reads took 0.96 s where 16 MiB reads took 1.16 s.
 */
export const POOL_READ_BYTES = 1024 * 1024;

/**
 * Ranges up to this size are hashed on the calling thread: a worker costs tens
 * of milliseconds and megabytes to start, more than hashing a dataset's CSV or
 * a model's config files (the scale bench's eight datasets started two).
 */
export const INLINE_HASH_MAX = 256 * 1024;

interface RangeJob {
  file: string;
  start: number;
  end?: number;
  algorithm: string;
}

/**
 * Hashes a job's byte range with reads into `buf`, or returns undefined when
 * the range is over `inlineMax` bytes. Opened without following a link and
 * without blocking, and refused unless a regular file: a FIFO swapped in for a
 * listed file must not hang a thread. It uses only its arguments, because each
 * worker runs it from its source text.
 */
function hashRange(fs: typeof import('node:fs'), crypto: typeof import('node:crypto'), buf: Buffer, job: RangeJob, inlineMax: number): HashResult | undefined {
  const fd = fs.openSync(job.file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0) | (fs.constants.O_NONBLOCK || 0));
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(job.file + ' is not a regular file');
    const end = job.end === undefined ? st.size : Math.min(job.end, st.size);
    if (end - job.start > inlineMax) return undefined;
    const hash = crypto.createHash(job.algorithm);
    let pos = job.start;
    while (pos < end) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
    }
    return { hex: hash.digest('hex'), bytes: pos - job.start, size: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

// The worker is evaluated from this string so the esbuild bundles need no
// extra file beside them; it uses node built-ins only and never sees anything
// but a path, a byte range and a hash name.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const hashRange = ${hashRange.toString()};
const buf = Buffer.allocUnsafe(${POOL_READ_BYTES});
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ id: job.id, ...hashRange(fs, crypto, buf, job, Infinity) });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String(e && e.message || e) });
  }
});
`;

export interface HashJob {
  /** Absolute path. */
  file: string;
  start?: number;
  /** Exclusive; default: end of file. */
  end?: number;
  /** node:crypto name; default sha256. */
  algorithm?: string;
}

export interface HashResult {
  hex: string;
  /** Bytes hashed (shorter than asked when the file is shorter). */
  bytes: number;
  /** File size when it was read. */
  size: number;
}

interface Pending {
  id: number;
  job: Required<Omit<HashJob, 'end'>> & { end?: number };
  resolve: (r: HashResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
}

/**
 * Hashes files and byte ranges on worker threads, one job per core at a time.
 * Each worker owns one read buffer, so memory stays flat whatever the model
 * size. `close()` must be called: live workers keep the process running.
 */
export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly size = Math.max(1, Math.min(availableParallelism(), 8)),
    private readonly signal?: AbortSignal,
    /** Ranges up to this many bytes are hashed on the calling thread. */
    private readonly inlineMax = INLINE_HASH_MAX,
  ) {
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  hash(job: HashJob): Promise<HashResult> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise((resolve, reject) => {
      // One job per turn of the event loop: a model of 100,000 small files does not hold the thread, and an abort is heard.
      setImmediate(() => {
        if (this.closed) return reject(this.closedReason());
        let small: HashResult | undefined;
        try {
          small = hashSmall(job, this.inlineMax);
        } catch (e) {
          return reject(e instanceof Error ? e : new Error(String(e)));
        }
        if (small) return resolve(small);
        this.queue.push({ id: this.nextId++, job: { file: job.file, start: job.start ?? 0, end: job.end, algorithm: job.algorithm ?? 'sha256' }, resolve, reject });
        this.pump();
      });
    });
  }

  /** Workers started so far (and not yet closed). */
  get workers(): number {
    return this.slots.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = this.closedReason();
    for (const p of this.queue.splice(0)) p.reject(reason);
    for (const s of this.slots) s.busy?.reject(reason);
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private closedReason(): Error {
    const reason: unknown = this.signal?.aborted ? this.signal.reason : new Error('hash pool closed');
    return reason instanceof Error ? reason : new Error(String(reason));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const next = this.queue.shift()!;
      slot.busy = next;
      slot.worker.postMessage({ id: next.id, ...next.job });
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }) };
    slot.worker.on('message', (m: { id: number; hex?: string; bytes?: number; size?: number; error?: string }) => {
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      slot.busy = undefined;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else {
        countHashed(m.bytes!);
        p.resolve({ hex: m.hex!, bytes: m.bytes!, size: m.size! });
      }
      this.pump();
    });
    slot.worker.on('error', (e) => {
      slot.busy?.reject(e);
      slot.busy = undefined;
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.pump();
    });
    this.slots.push(slot);
    return slot;
  }
}

/** The calling thread's read buffer: its hashes run one at a time, synchronously. */
let inlineBuffer: Buffer | undefined;

/** The job's result when its range is small, hashed here; undefined when a worker should take it. Throws what a worker would report. */
function hashSmall(job: HashJob, inlineMax: number): HashResult | undefined {
  inlineBuffer ??= Buffer.allocUnsafe(Math.min(INLINE_HASH_MAX, POOL_READ_BYTES));
  const r = hashRange(fs, crypto, inlineBuffer, { file: job.file, start: job.start ?? 0, end: job.end, algorithm: job.algorithm ?? 'sha256' }, inlineMax);
  if (r) countHashed(r.bytes);
  return r;
}
