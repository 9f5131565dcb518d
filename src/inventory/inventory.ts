import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Minimatch } from 'minimatch';
import { FileProblem } from '../core/errors.js';
import type { FileEntry, Inventory, SubmoduleEntry } from './types.js';

export interface GlobMatcher {
  match(path: string): boolean;
}

const globCache = new Map<string, GlobMatcher>();
const LITERAL = /^[^*?[\]{}()!+@\\]+$/;

/**
 * The common shapes as plain string tests (`**\/*.py`, `**\/*.{csv,tsv}`,
 * `data/**`, a literal path): every rule matches every file of the repository
 * against its globs, and these are most of them. Anything else is minimatch's.
 */
function fastMatcher(glob: string): GlobMatcher | undefined {
  const ext = /^\*\*\/\*(\.[^*?[\]{}()!+@\\/]+)$/.exec(glob) ?? /^\*\*\/\*\.\{([^*?[\]{}()!+@\\/]+)\}$/.exec(glob);
  if (ext) {
    const suffixes = glob.includes('{') ? ext[1]!.split(',').map((e) => `.${e}`) : [ext[1]!];
    if (suffixes.some((x) => x === '.')) return undefined;
    return { match: (p) => suffixes.some((x) => p.endsWith(x)) };
  }
  const dir = /^(.+)\/\*\*$/.exec(glob);
  if (dir && LITERAL.test(dir[1]!)) {
    const prefix = `${dir[1]}/`;
    return { match: (p) => p.startsWith(prefix) };
  }
  if (LITERAL.test(glob)) return { match: (p) => p === glob };
  return undefined;
}

/** Compiled once per glob: rules match thousands of paths against a handful of patterns. */
export function compileGlob(glob: string): GlobMatcher {
  let m = globCache.get(glob);
  if (!m) {
    m = fastMatcher(glob) ?? new Minimatch(glob, { dot: true });
    globCache.set(glob, m);
  }
  return m;
}

export function matchesAny(p: string, globs: readonly string[]): boolean {
  return globs.some((g) => compileGlob(g).match(p));
}

/** An inventory over already-listed files (see `listFiles`); reads refuse to follow symlinks. */
export function createInventory(root: string, entries: FileEntry[], submodules: readonly SubmoduleEntry[] = [], symlinks: readonly string[] = []): Inventory {
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
    submodules: [...submodules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    symlinks: [...symlinks].sort(),
    get: (p) => byPath.get(p),
    match: (globs) => (globs.length === 0 ? [] : files.filter((f) => matchesAny(f.path, globs))),
    abs,
    readBytes,
    readText: async (p, maxBytes) => (await readBytes(p, maxBytes)).toString('utf8'),
  };
}
