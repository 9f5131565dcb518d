import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
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

// The worker is evaluated from this string so the esbuild bundles need no
// extra file beside them; it uses node built-ins only and never sees anything
// but a path, a byte range and a hash name.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync, fstatSync, constants } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(${POOL_READ_BYTES});
parentPort.on('message', (job) => {
  let fd;
  try {
    // O_NONBLOCK and a regular-file check: a FIFO swapped in for a listed file must not hang the worker.
    fd = openSync(job.file, constants.O_RDONLY | (constants.O_NOFOLLOW || 0) | (constants.O_NONBLOCK || 0));
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(job.file + ' is not a regular file');
    const size = st.size;
    const end = job.end === undefined ? size : Math.min(job.end, size);
    const hash = createHash(job.algorithm);
    let pos = job.start;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
    }
    parentPort.postMessage({ id: job.id, hex: hash.digest('hex'), bytes: pos - job.start, size });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String(e && e.message || e) });
  } finally {
    if (fd !== undefined) closeSync(fd);
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

/**
 * The job's result when its range is a small regular file's, hashed here with
 * the worker's reads; undefined when it is large, so a worker takes it. Throws
 * what the worker would report (a missing file, a symlink, a FIFO).
 */
function hashSmall(job: HashJob, inlineMax: number): HashResult | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(job.file, constants.O_RDONLY | (constants.O_NOFOLLOW || 0) | (constants.O_NONBLOCK || 0));
    const st = fstatSync(fd);
    const start = job.start ?? 0;
    const end = job.end === undefined ? st.size : Math.min(job.end, st.size);
    if (!st.isFile()) throw new Error(`${job.file} is not a regular file`);
    if (end - start > inlineMax) return undefined;
    const buf = Buffer.allocUnsafe(Math.max(0, end - start));
    let pos = start;
    while (pos < end) {
      const n = readSync(fd, buf, pos - start, end - pos, pos);
      if (n === 0) break;
      pos += n;
    }
    const bytes = Math.max(0, pos - start);
    countHashed(bytes);
    return { hex: createHash(job.algorithm ?? 'sha256').update(buf.subarray(0, bytes)).digest('hex'), bytes, size: st.size };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
