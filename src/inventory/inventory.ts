import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { FileProblem } from '../core/errors.js';
import { ContentCache } from './content-cache.js';
import { createGlobIndex, type GlobIndex } from './glob-index.js';
import type { FileEntry, Inventory, SubmoduleEntry } from './types.js';

export { compileGlob, matchesAny, type GlobMatcher } from './glob-match.js';

/**
 * A regular file whose size is learnt on first use (or from the first read):
 * listing 100,000 files from the git index costs no stat, and a changed-mode
 * run stats only what it reads.
 */
export class ListedFile implements FileEntry {
  lfs?: FileEntry['lfs'];
  #size: number | undefined;
  readonly #root: string;

  constructor(
    readonly path: string,
    root: string,
    size?: number,
  ) {
    this.#root = root;
    this.#size = size;
  }

  get size(): number {
    // A file that vanished since the listing reads as empty here; reading it reports it.
    this.#size ??= lstatSync(path.join(this.#root, ...this.path.split('/')), { throwIfNoEntry: false })?.size ?? 0;
    return this.#size;
  }

  /** The size an open file's fstat gave, so a later `size` costs nothing. */
  learn(size: number): void {
    this.#size = size;
  }

  toJSON(): FileEntry {
    return { path: this.path, size: this.size, ...(this.lfs ? { lfs: this.lfs } : {}) };
  }
}

/**
 * Files up to this size are read with blocking calls: on a warm page cache one
 * open, fstat, read and close cost less than the four thread-pool round trips
 * of a promise-based read (the scale bench: full mode of 100,000 files).
 */
export const SYNC_READ_MAX = 256 * 1024;

/** Files up to this size are read whole when a rule asks for their head, since another rule usually wants the rest. */
const WHOLE_ON_HEAD_MAX = 64 * 1024;

const budgetProblem = (p: string, size: number, maxBytes: number): FileProblem =>
  new FileProblem(p, `${p} is ${size} bytes, over the ${maxBytes}-byte budget for reading it whole`, 'budget-exceeded');

export interface InventoryOptions {
  /** Shared by the inventories of one run (each rule may see its own, minus its excludes). */
  cache?: ContentCache;
}

/** An inventory over already-listed files (see `listFiles`); reads refuse to follow symlinks. */
export function createInventory(
  root: string,
  entries: FileEntry[],
  submodules: readonly SubmoduleEntry[] = [],
  symlinks: readonly string[] = [],
  opts: InventoryOptions = {},
): Inventory {
  const cache = opts.cache ?? new ContentCache();
  const files = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const byPath = new Map(files.map((f) => [f.path, f]));
  let globs: GlobIndex | undefined;
  const globIndex = (): GlobIndex => (globs ??= createGlobIndex(files.map((f) => f.path)));
  const abs = (p: string): string => {
    if (!byPath.has(p)) throw new FileProblem(p, `${p} is not a file of the inventory`, 'not-in-inventory');
    return path.join(root, ...p.split('/'));
  };
  const learn = (p: string, size: number): void => {
    const e = byPath.get(p);
    if (e instanceof ListedFile) e.learn(size);
  };
  /** Opens without following a link and reads up to `want(size)` bytes synchronously; undefined when the file is too large for that. */
  const readSyncUpTo = (p: string, want: (size: number) => number | undefined): { bytes: Buffer; size: number } | undefined => {
    // O_NONBLOCK: a FIFO swapped in for a listed file must not hang the run.
    const fd = openSync(abs(p), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const { size } = fstatSync(fd);
      learn(p, size);
      const n = want(size);
      if (n === undefined) return undefined;
      const buf = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const got = readSync(fd, buf, off, n - off, off);
        if (got === 0) break;
        off += got;
      }
      return { bytes: off === n ? buf : buf.subarray(0, off), size };
    } finally {
      closeSync(fd);
    }
  };
  const readLarge = async (p: string, maxBytes: number): Promise<Buffer> => {
    const handle = await open(abs(p), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      learn(p, size);
      if (size > maxBytes) throw budgetProblem(p, size, maxBytes);
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await handle.read(buf, off, size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === size ? buf : buf.subarray(0, off);
    } finally {
      await handle.close();
    }
  };
  const readBytes = async (p: string, maxBytes: number): Promise<Buffer> => {
    const cached = cache.get(p);
    if (cached) {
      if (cached.length > maxBytes) throw budgetProblem(p, cached.length, maxBytes);
      return cached;
    }
    let tooLarge: number | undefined;
    const small = readSyncUpTo(p, (size) => {
      if (size > maxBytes) tooLarge = size;
      return size <= SYNC_READ_MAX && size <= maxBytes ? size : undefined;
    });
    if (tooLarge !== undefined) throw budgetProblem(p, tooLarge, maxBytes);
    const bytes = small?.bytes ?? (await readLarge(p, maxBytes));
    cache.put(p, bytes);
    return bytes;
  };
  const readHead = async (p: string, n: number): Promise<Buffer> => {
    const cached = cache.get(p);
    if (cached) return cached.subarray(0, n);
    let whole = false;
    const got = readSyncUpTo(p, (size) => {
      whole = size <= WHOLE_ON_HEAD_MAX;
      return whole ? size : Math.min(n, size);
    })!;
    if (whole) cache.put(p, got.bytes);
    return got.bytes.subarray(0, n);
  };
  return {
    root,
    files,
    submodules: [...submodules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    symlinks: [...symlinks].sort(),
    get: (p) => byPath.get(p),
    match: (globs) => globIndex().match(globs).map((i) => files[i]!),
    abs,
    readBytes,
    readHead,
    readText: async (p, maxBytes) => (await readBytes(p, maxBytes)).toString('utf8'),
  };
}
