import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { ChangeList } from '../inventory/changed.js';
import { findRepositoryRoot, gitFilesUnder } from '../inventory/root.js';
import { scanRepository } from '../inventory/scan.js';

/** What `mlgate check [PATH…]` evaluates: a repository, whole or restricted to some of its files. */
export interface Scope {
  root: string;
  fromGit: boolean;
  /** Repository-relative files the run is restricted to; undefined for the whole repository. */
  files?: string[];
  /** Repository-relative directories and files named on the command line (for filtering a change list). */
  named: string[];
}

const posix = (p: string) => p.split(path.sep).join('/');

async function kindOf(target: string): Promise<{ abs: string; dir: boolean }> {
  let abs: string;
  try {
    abs = await realpath(target);
  } catch {
    throw new ConfigurationError(`${target}: no such file or directory; mlgate check takes a repository directory (default .) or files inside one`);
  }
  const st = await stat(abs);
  if (st.isDirectory()) return { abs, dir: true };
  if (st.isFile()) return { abs, dir: false };
  throw new ConfigurationError(`${target}: neither a directory nor a regular file; mlgate check takes a repository directory (default .) or files inside one`);
}

function commonAncestor(dirs: string[]): string {
  let common = dirs[0]!;
  for (const d of dirs.slice(1)) {
    while (common !== path.dirname(common) && path.relative(common, d).startsWith('..')) common = path.dirname(common);
  }
  return common;
}

/**
 * The repository that holds the targets (its git top level, or outside git the
 * directory given) and, unless a target is that root, the files to restrict the
 * run to. Every target must exist and lie in the same repository.
 */
export async function resolveScope(targets: readonly string[], rootOption?: string): Promise<Scope> {
  let forced: string | undefined;
  if (rootOption !== undefined) {
    const k = await kindOf(rootOption);
    if (!k.dir) throw new ConfigurationError(`--root ${rootOption}: not a directory`);
    forced = k.abs;
  }
  const given = targets.length > 0 ? targets : [rootOption ?? '.'];
  const kinds = await Promise.all(given.map(kindOf));
  const dirs = kinds.map((k) => (k.dir ? k.abs : path.dirname(k.abs)));
  const found = await findRepositoryRoot(forced ?? dirs[0]!);
  const root = forced ?? (found.fromGit ? await realpath(found.root) : commonAncestor(dirs));
  const outside = given.filter((_, i) => path.relative(root, kinds[i]!.abs).startsWith('..') || path.isAbsolute(path.relative(root, kinds[i]!.abs)));
  if (outside.length > 0) {
    throw new ConfigurationError(`${outside.join(', ')}: outside the repository ${root}; run mlgate check once per repository`);
  }
  const named = kinds.map((k) => posix(path.relative(root, k.abs)));
  // The root itself (alone or among other targets) asks for the whole repository.
  if (named.includes('')) return { root, fromGit: found.fromGit, named: [] };
  const files = new Set<string>();
  for (let i = 0; i < kinds.length; i++) {
    const rel = named[i]!;
    if (!kinds[i]!.dir) {
      files.add(rel);
      continue;
    }
    const under = found.fromGit ? await gitFilesUnder(root, rel) : (await scanRepository(kinds[i]!.abs)).inventory.files.map((f) => `${rel}/${f.path}`);
    if (under.length === 0) throw new ConfigurationError(`${given[i]}: the directory holds no files to evaluate${found.fromGit ? ' (none tracked or untracked-but-not-ignored by git)' : ''}`);
    for (const f of under) files.add(f);
  }
  return { root, fromGit: found.fromGit, files: [...files].sort(), named };
}

/** Whether a repository path is one of the named files or under a named directory. */
export function inScope(scope: Scope, p: string): boolean {
  if (scope.files === undefined) return true;
  return scope.named.some((n) => p === n || p.startsWith(`${n}/`));
}

/** A change list restricted to the scope (for `--base`/`--changed-files` with named paths). */
export function restrictChanges(scope: Scope, list: ChangeList): ChangeList {
  const keep = (ps: Iterable<string> | undefined) => [...(ps ?? [])].filter((p) => inScope(scope, p));
  return {
    added: keep(list.added),
    modified: keep(list.modified),
    deleted: keep(list.deleted),
    renamed: [...(list.renamed ?? [])].filter(([to, from]) => inScope(scope, to) || inScope(scope, from)),
    // The listing is the whole repository's whatever the scope: git's untracked and dirty files serve it unrestricted.
    ...(list.untracked ? { untracked: list.untracked } : {}),
    ...(list.dirty ? { dirty: list.dirty } : {}),
  };
}
