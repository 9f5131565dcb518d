import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseLfsPointer, LFS_POINTER_MAX_BYTES } from '../formats/lfs.js';
import { createInventory, matchesAny } from './inventory.js';
import { git, isGitRepo } from './git.js';
import type { FileEntry, Inventory } from './types.js';

export interface InventoryNote {
  code: 'symlink' | 'truncated' | 'unsafe-path';
  path?: string;
  message: string;
}

export interface ScanOptions {
  exclude?: readonly string[];
  /** Files listed at most; the rest is reported as `inventory/truncated`. */
  maxFiles?: number;
}

export interface ScanResult {
  inventory: Inventory;
  notes: InventoryNote[];
  /** True when the file list came from `git ls-files`. */
  fromGit: boolean;
}

export const DEFAULT_MAX_FILES = 200_000;

/** Rejects what could escape the root: absolute paths, `..`, empty or NUL-containing segments. */
export function normaliseRepoPath(p: string): string | undefined {
  if (p.includes('\0') || p.includes('\\')) return undefined;
  if (p.startsWith('/')) return undefined;
  const segs = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.length === 0 || segs.some((s) => s === '..')) return undefined;
  return segs.join('/');
}

async function walk(root: string, limit: number): Promise<{ paths: string[]; truncated: boolean }> {
  const out: string[] = [];
  const queue = [''];
  while (queue.length > 0) {
    const rel = queue.shift()!;
    let entries;
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (rel === '' && e.name === '.git') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) queue.push(p);
      else {
        if (out.length >= limit) return { paths: out, truncated: true };
        out.push(p);
      }
    }
  }
  return { paths: out, truncated: false };
}

async function readPointer(abs: string, size: number): Promise<FileEntry['lfs']> {
  if (size > LFS_POINTER_MAX_BYTES || size < 40) return undefined;
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(size);
    await handle.read(buf, 0, size, 0);
    return parseLfsPointer(buf);
  } finally {
    await handle.close();
  }
}

/**
 * Lists the repository: `git ls-files` (tracked plus untracked-not-ignored) in a
 * git work tree, a bounded walk otherwise. Regular files only; symlinks are noted
 * and never followed; Git LFS pointers are recognised.
 */
export async function scanRepository(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const exclude = opts.exclude ?? [];
  const notes: InventoryNote[] = [];
  const fromGit = await isGitRepo(root);
  let raw: string[];
  let truncated = false;
  if (fromGit) {
    raw = (await git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'])).split('\0').filter(Boolean);
    if (raw.length > maxFiles) {
      raw = raw.slice(0, maxFiles);
      truncated = true;
    }
  } else {
    ({ paths: raw, truncated } = await walk(root, maxFiles));
  }
  if (truncated) notes.push({ code: 'truncated', message: `the repository has more than ${maxFiles} files; only the first ${maxFiles} were evaluated` });

  const entries: FileEntry[] = [];
  const seen = new Set<string>();
  const BATCH = 64;
  for (let i = 0; i < raw.length; i += BATCH) {
    await Promise.all(
      raw.slice(i, i + BATCH).map(async (r) => {
        const p = normaliseRepoPath(r);
        if (!p) {
          notes.push({ code: 'unsafe-path', path: r, message: `path ${JSON.stringify(r)} is not a safe repository path and was skipped` });
          return;
        }
        if (seen.has(p) || matchesAny(p, exclude)) return;
        seen.add(p);
        const abs = path.join(root, ...p.split('/'));
        let st;
        try {
          st = await lstat(abs);
        } catch {
          return; // listed by git but deleted in the work tree
        }
        if (st.isSymbolicLink()) {
          notes.push({ code: 'symlink', path: p, message: `${p} is a symbolic link; mlgate does not follow links, so its target was not evaluated` });
          return;
        }
        if (!st.isFile()) return;
        const entry: FileEntry = { path: p, size: st.size };
        try {
          const lfs = await readPointer(abs, st.size);
          if (lfs) entry.lfs = lfs;
        } catch {
          // unreadable: rules reading it will report it
        }
        entries.push(entry);
      }),
    );
  }
  // Directories under a symlinked directory never appear: git lists the link itself.
  notes.sort((a, b) => (a.path ?? '').localeCompare(b.path ?? ''));
  return { inventory: createInventory(root, entries), notes, fromGit };
}
