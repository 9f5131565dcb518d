import { closeSync, constants, existsSync, lstatSync, openSync, readSync, type Dirent, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseLfsPointer, LFS_POINTER_MAX_BYTES } from '../formats/lfs.js';
import type { ContentCache } from './content-cache.js';
import { createInventory, ListedFile, matchesAny } from './inventory.js';
import { git, gitWithInput, isGitRepo } from './git.js';
import type { FileEntry, Inventory, SubmoduleEntry } from './types.js';

export interface InventoryNote {
  code: 'symlink' | 'truncated' | 'unsafe-path' | 'submodule-not-checked-out';
  path?: string;
  message: string;
}

export interface ScanOptions {
  exclude?: readonly string[];
  /** Files listed at most; the rest is reported as `inventory/truncated`. */
  maxFiles?: number;
  /**
   * The untracked, not ignored files when the caller already asked git (a change
   * taken against the work tree): finding them walks every directory, so once.
   * A promise lets the listing start while the caller's git is still running;
   * one that settles undefined means the caller did not ask, and the scan does.
   */
  untracked?: readonly string[] | Promise<readonly string[] | undefined>;
  /**
   * Tracked paths whose work-tree file may differ from the index (a superset
   * of what `git diff-files` lists), when the caller's git already knows them;
   * otherwise the scan asks, which stats every tracked file once more.
   */
  dirty?: readonly string[] | Promise<readonly string[] | undefined>;
  /** The run's shared file contents (a fresh cache when absent). */
  cache?: ContentCache;
}

export interface ScanResult {
  inventory: Inventory;
  notes: InventoryNote[];
  /** True when the file list came from `git ls-files`. */
  fromGit: boolean;
}

export const DEFAULT_MAX_FILES = 200_000;

/** A path that may need normalising or rejecting: a `.` or `..` segment, an empty one, a leading or trailing slash, a backslash or NUL. */
const UNUSUAL_PATH = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|^\/|\/$|\\|\0/;

/** Rejects what could escape the root: absolute paths, `..`, empty or NUL-containing segments. */
export function normaliseRepoPath(p: string): string | undefined {
  // Almost every path git lists is already normal: one test instead of a split and a join per file.
  if (p !== '' && !UNUSUAL_PATH.test(p)) return p;
  if (p.includes('\0') || p.includes('\\')) return undefined;
  if (p.startsWith('/')) return undefined;
  const segs = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.length === 0 || segs.some((s) => s === '..')) return undefined;
  return segs.join('/');
}

/** What a listing knows of a path without a stat: git's index mode or the directory entry's type. */
type Kind = 'file' | 'symlink' | 'dir' | 'other' | 'unknown';

interface Listed {
  raw: string;
  kind: Kind;
  inSubmodule: boolean;
}

function direntKind(e: Dirent): Kind {
  return e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : e.isDirectory() ? 'dir' : 'other';
}

function statKind(st: Stats): Kind {
  return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'other';
}

/** One breadth-first `readdir` walk; the entries' types come with the listing, so nothing is stat'ed. */
async function walk(root: string, limit: number, start = ''): Promise<{ entries: { path: string; kind: Kind }[]; truncated: boolean }> {
  const out: { path: string; kind: Kind }[] = [];
  const queue = [start];
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
      if (rel === start && e.name === '.git') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) queue.push(p);
      else {
        if (out.length >= limit) return { entries: out, truncated: true };
        out.push({ path: p, kind: direntKind(e) });
      }
    }
  }
  return { entries: out, truncated: false };
}

function readPointer(abs: string, size: number): FileEntry['lfs'] {
  if (size > LFS_POINTER_MAX_BYTES || size < 40) return undefined;
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    return parseLfsPointer(buf);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether an attributes file outside the work tree could route a path through
 * LFS: the repository's info/attributes, the user's (core.attributesFile or the
 * default) or the system's. With none of these and no .gitattributes, asking
 * `git check-attr` about every path of a 100,000-file repository is skipped.
 * When git cannot say, it is asked anyway.
 */
async function attributesOutsideTree(root: string): Promise<boolean> {
  const [commonDir, userFile] = await Promise.all([
    git(root, ['rev-parse', '--path-format=absolute', '--git-common-dir']).then((s) => s.trim()),
    git(root, ['config', '--path', '--get', 'core.attributesFile']).then((s) => s.trim(), () => ''),
  ]);
  // The core reads no environment: git's default user file is taken at $HOME/.config (an XDG_CONFIG_HOME elsewhere is not seen).
  const files = [path.join(commonDir, 'info', 'attributes'), userFile || path.join(homedir(), '.config', 'git', 'attributes'), '/etc/gitattributes'];
  return files.some((f) => f !== '' && existsSync(f));
}

const mayHaveOutsideAttributes = (root: string): Promise<boolean> => attributesOutsideTree(root).catch(() => true);

/** Paths whose `filter` attribute is `lfs`: only those can be checked-out LFS pointers. */
async function lfsTracked(root: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const out = (await gitWithInput(root, ['check-attr', '-z', '--stdin', 'filter'], `${paths.join('\0')}\0`)).split('\0');
  const tracked = new Set<string>();
  // Records are path, attribute, value.
  for (let i = 0; i + 2 < out.length; i += 3) if (out[i + 2] === 'lfs') tracked.add(out[i]!);
  return tracked;
}

const INDEX_KIND: Record<string, Kind> = { '100644': 'file', '100755': 'file', '120000': 'symlink', '160000': 'dir' };

/**
 * The git listing with each path's type: the index's mode for tracked files
 * (`ls-files -s`), except those git sees deleted, modified or retyped in the work tree
 * (their type may have changed there: those few are stat'ed), and untracked
 * files, stat'ed too. Three git processes run side by side.
 */
async function gitListing(root: string, known: Pick<ScanOptions, 'untracked' | 'dirty'> = {}): Promise<Listed[]> {
  const [staged, dirty, untracked] = await Promise.all([
    git(root, ['ls-files', '-s', '-z']),
    // diff-files stats the index's entries on git's preload threads; `ls-files -m` does it on one (≈ 60% slower at 100k files).
    // --relative: from a subdirectory root, paths as ls-files gives them.
    Promise.resolve(known.dirty).then((given) => given ?? git(root, ['diff-files', '--name-only', '-z', '--relative']).then((out) => out.split('\0'))),
    Promise.resolve(known.untracked).then((given) => given ?? git(root, ['ls-files', '-z', '--others', '--exclude-standard']).then((out) => out.split('\0').filter(Boolean))),
  ]);
  const unsure = new Set(dirty);
  const out: Listed[] = [];
  const seen = new Set<string>();
  for (const rec of staged.split('\0')) {
    // `<mode> <object> <stage>\t<path>`; a conflicted path has one record per stage.
    const tab = rec.indexOf('\t');
    if (tab === -1) continue;
    const raw = rec.slice(tab + 1);
    if (seen.has(raw)) continue;
    seen.add(raw);
    out.push({ raw, kind: unsure.has(raw) ? 'unknown' : (INDEX_KIND[rec.slice(0, rec.indexOf(' '))] ?? 'unknown'), inSubmodule: false });
  }
  for (const raw of untracked) if (!seen.has(raw)) out.push({ raw, kind: 'unknown', inSubmodule: false });
  return out;
}

/**
 * Lists the repository: tracked plus untracked-not-ignored files in a git work
 * tree, a bounded walk otherwise. Regular files only; symlinks are noted and
 * never followed; Git LFS pointers are recognised.
 */
export async function scanRepository(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const exclude = opts.exclude ?? [];
  const notes: InventoryNote[] = [];
  const fromGit = await isGitRepo(root);
  let queue: Listed[];
  let truncated = false;
  // Asked beside the listing, so its two git processes cost no wait of their own.
  const outside = fromGit ? mayHaveOutsideAttributes(root) : undefined;
  if (fromGit) {
    queue = await gitListing(root, opts);
    queue.sort((a, b) => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0));
  } else {
    const walked = await walk(root, maxFiles);
    queue = walked.entries.map((e) => ({ raw: e.path, kind: e.kind, inSubmodule: false }));
    truncated = walked.truncated;
  }
  if (queue.length > maxFiles) {
    queue = queue.slice(0, maxFiles);
    truncated = true;
  }
  if (truncated) notes.push({ code: 'truncated', message: `the repository has more than ${maxFiles} files; only the first ${maxFiles} were evaluated` });

  // In a git work tree only files git routes through LFS can be pointers; elsewhere any small file may be one.
  const lfsCandidates = !fromGit
    ? undefined
    : queue.some((q) => q.raw === '.gitattributes' || q.raw.endsWith('/.gitattributes')) || (await outside!)
      ? await lfsTracked(root, queue.filter((q) => q.kind === 'file' || q.kind === 'unknown').map((q) => q.raw))
      : new Set<string>();
  const entries: FileEntry[] = [];
  const submodules: SubmoduleEntry[] = [];
  const seen = new Set<string>();
  const listedTotal = queue.length;
  for (let i = 0; i < queue.length; i++) {
    const { raw, inSubmodule } = queue[i]!;
    let kind = queue[i]!.kind;
    const p = normaliseRepoPath(raw);
    if (!p) {
      notes.push({ code: 'unsafe-path', path: raw, message: `path ${JSON.stringify(raw)} is not a safe repository path and was skipped` });
      continue;
    }
    if (seen.has(p) || (exclude.length > 0 && matchesAny(p, exclude))) continue;
    seen.add(p);
    const abs = (): string => path.join(root, ...p.split('/'));
    let size: number | undefined;
    if (kind === 'unknown') {
      const st = lstatSync(abs(), { throwIfNoEntry: false });
      if (!st) continue; // listed by git but deleted in the work tree
      kind = statKind(st);
      size = st.size;
    }
    if (kind === 'symlink') {
      notes.push({ code: 'symlink', path: p, message: `${p} is a symbolic link; mlgate does not follow links, so its target was not evaluated` });
      continue;
    }
    if (kind === 'dir' && fromGit) {
      // git lists a submodule (or a nested repository) as its directory: its files are listed by walking it.
      const sub = await walk(root, Math.max(0, maxFiles - listedTotal), p);
      submodules.push({ path: p, checkedOut: sub.entries.length > 0 });
      if (sub.entries.length === 0) {
        notes.push({ code: 'submodule-not-checked-out', path: p, message: `${p} is a git submodule that is not checked out, so nothing inside it was evaluated; check submodules out in this job (actions/checkout with submodules: true)` });
      }
      if (sub.truncated && !truncated) {
        truncated = true;
        notes.push({ code: 'truncated', message: `the repository has more than ${maxFiles} files with its submodules; only the first ${maxFiles} were evaluated` });
      }
      for (const inner of sub.entries) queue.push({ raw: inner.path, kind: inner.kind, inSubmodule: true });
      continue;
    }
    if (kind !== 'file') continue;
    const entry = new ListedFile(p, root, size);
    // A submodule's .gitattributes are not the superproject's: any small file there may be a pointer.
    if (!lfsCandidates || lfsCandidates.has(raw) || inSubmodule) {
      try {
        const lfs = readPointer(abs(), entry.size);
        if (lfs) entry.lfs = lfs;
      } catch {
        // unreadable: rules reading it will report it
      }
    }
    entries.push(entry);
  }
  // Directories under a symlinked directory never appear: git lists the link itself.
  notes.sort((a, b) => (a.path ?? '').localeCompare(b.path ?? ''));
  const symlinks = notes.flatMap((n) => (n.code === 'symlink' && n.path !== undefined ? [n.path] : []));
  return { inventory: createInventory(root, entries, submodules, symlinks, opts.cache ? { cache: opts.cache } : {}), notes, fromGit };
}
