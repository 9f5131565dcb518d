import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HashPool, INLINE_HASH_MAX } from '../src/core/hash-pool.js';
import { makeRepo } from './helpers/repo.js';

const pools: HashPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
const pool = (size?: number, signal?: AbortSignal) => {
  const p = new HashPool(size, signal);
  pools.push(p);
  return p;
};

describe('HashPool', () => {
  it('hashes whole files and byte ranges like node:crypto, in parallel', async () => {
    const dir = await makeRepo({});
    const data = randomBytes(20 * 1024 * 1024 + 123);
    const file = path.join(dir, 'big.bin');
    await writeFile(file, data);
    const ranges: [number, number | undefined][] = [[0, undefined], [0, 1], [5, 9 * 1024 * 1024], [8 * 1024 * 1024, 20 * 1024 * 1024 + 123], [100, 100]];
    const p = pool(3);
    const got = await Promise.all(ranges.map(([start, end]) => p.hash({ file, start, end })));
    ranges.forEach(([start, end], i) => {
      expect(got[i]!.hex).toBe(createHash('sha256').update(data.subarray(start, end)).digest('hex'));
      expect(got[i]!.bytes).toBe((end ?? data.length) - start);
      expect(got[i]!.size).toBe(data.length);
    });
    const blake = await p.hash({ file, algorithm: 'blake2b512' });
    expect(blake.hex).toBe(createHash('blake2b512').update(data).digest('hex'));
  });

  it('a range past the end hashes what is there', async () => {
    const dir = await makeRepo({ 'f.txt': 'hello' });
    const r = await pool(1).hash({ file: path.join(dir, 'f.txt'), start: 2, end: 100 });
    expect(r).toEqual({ hex: createHash('sha256').update('llo').digest('hex'), bytes: 3, size: 5 });
  });

  it('rejects a missing file without losing the worker', async () => {
    const dir = await makeRepo({ 'f.txt': 'x' });
    const p = pool(1);
    await expect(p.hash({ file: path.join(dir, 'nope') })).rejects.toThrow(/ENOENT/);
    expect((await p.hash({ file: path.join(dir, 'f.txt') })).bytes).toBe(1);
  });

  it('hashes small files on the calling thread and starts a worker only for a large one', async () => {
    const small = randomBytes(INLINE_HASH_MAX);
    const large = randomBytes(INLINE_HASH_MAX + 1);
    const dir = await makeRepo({ 'small.csv': small, 'large.bin': large, 'big.bin': Buffer.alloc(4 * INLINE_HASH_MAX, 7) });
    const p = pool(2);
    const inline = await Promise.all([p.hash({ file: path.join(dir, 'small.csv') }), p.hash({ file: path.join(dir, 'big.bin'), start: 10, end: 10 + INLINE_HASH_MAX })]);
    expect(inline.map((r) => r.hex)).toEqual([createHash('sha256').update(small).digest('hex'), createHash('sha256').update(Buffer.alloc(INLINE_HASH_MAX, 7)).digest('hex')]);
    expect(inline.map((r) => [r.bytes, r.size])).toEqual([[INLINE_HASH_MAX, INLINE_HASH_MAX], [INLINE_HASH_MAX, 4 * INLINE_HASH_MAX]]);
    expect(p.workers).toBe(0);
    expect((await p.hash({ file: path.join(dir, 'large.bin') })).hex).toBe(createHash('sha256').update(large).digest('hex'));
    expect(p.workers).toBe(1);
  });

  it('refuses a symlink or a FIFO on either thread, without blocking on the FIFO', async () => {
    const dir = await makeRepo({ 'f.txt': 'x', 'large.bin': Buffer.alloc(INLINE_HASH_MAX + 1) });
    await symlink('f.txt', path.join(dir, 'link'));
    await symlink('large.bin', path.join(dir, 'large-link'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const p = pool(1);
    await expect(p.hash({ file: path.join(dir, 'link') })).rejects.toThrow(/ELOOP/);
    await expect(p.hash({ file: path.join(dir, 'large-link') })).rejects.toThrow(/ELOOP/);
    await expect(p.hash({ file: path.join(dir, 'fifo') })).rejects.toThrow(/fifo is not a regular file/);
    expect(p.workers).toBe(0);
    // A pool that hashes nothing inline hands every job to a worker: it must refuse both without blocking on the FIFO.
    const workersOnly = new HashPool(1, undefined, -1);
    pools.push(workersOnly);
    await expect(workersOnly.hash({ file: path.join(dir, 'link') })).rejects.toThrow(/ELOOP/);
    await expect(workersOnly.hash({ file: path.join(dir, 'fifo') })).rejects.toThrow(/fifo is not a regular file/);
    expect((await workersOnly.hash({ file: path.join(dir, 'f.txt') })).bytes).toBe(1);
    expect(workersOnly.workers).toBe(1);
  });

  it('an abort rejects queued work and closes the pool, small jobs not yet hashed included', async () => {
    const dir = await makeRepo({ 'f.bin': Buffer.alloc(INLINE_HASH_MAX + 1), 'small.csv': 'a,b\n' });
    const ac = new AbortController();
    const p = pool(1, ac.signal);
    const jobs = Array.from({ length: 20 }, (_, i) => p.hash({ file: path.join(dir, i % 2 ? 'small.csv' : 'f.bin') }));
    ac.abort(new Error('budget'));
    const settled = await Promise.allSettled(jobs);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'budget')).toBe(true);
    await expect(p.hash({ file: path.join(dir, 'f.bin') })).rejects.toThrow(/closed/);
  });
});
