import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Minimatch } from 'minimatch';
import { FileProblem } from '../core/errors.js';
import type { FileEntry, Inventory } from './types.js';

const globCache = new Map<string, Minimatch>();

/** Compiled once per glob: rules match thousands of paths against a handful of patterns. */
export function compileGlob(glob: string): Minimatch {
  let m = globCache.get(glob);
  if (!m) {
    m = new Minimatch(glob, { dot: true });
    globCache.set(glob, m);
  }
  return m;
}

export function matchesAny(p: string, globs: readonly string[]): boolean {
  return globs.some((g) => compileGlob(g).match(p));
}

/** An inventory over already-listed files (see `listFiles`); reads refuse to follow symlinks. */
export function createInventory(root: string, entries: FileEntry[]): Inventory {
  const files = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const byPath = new Map(files.map((f) => [f.path, f]));
  const abs = (p: string): string => {
    if (!byPath.has(p)) throw new FileProblem(p, `${p} is not a file of the inventory`, 'not-in-inventory');
    return path.join(root, ...p.split('/'));
  };
  const readBytes = async (p: string, maxBytes: number): Promise<Buffer> => {
    const handle = await open(abs(p), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) throw new FileProblem(p, `${p} is ${size} bytes, over the ${maxBytes}-byte budget for reading it whole`, 'budget-exceeded');
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
  return {
    root,
    files,
    get: (p) => byPath.get(p),
    match: (globs) => (globs.length === 0 ? [] : files.filter((f) => matchesAny(f.path, globs))),
    abs,
    readBytes,
    readText: async (p, maxBytes) => (await readBytes(p, maxBytes)).toString('utf8'),
  };
}
