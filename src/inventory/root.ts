import path from 'node:path';
import { git } from './git.js';

export interface RepositoryRoot {
  /** Absolute path of the repository root. */
  root: string;
  /** True when the root is a git work tree's top level. */
  fromGit: boolean;
}

/**
 * The repository that holds `dir`: the git top level when `dir` is inside a
 * work tree (so CODEOWNERS, the threat model and the policy are found from any
 * subdirectory), else `dir` itself.
 */
export async function findRepositoryRoot(dir: string): Promise<RepositoryRoot> {
  try {
    const top = (await git(dir, ['rev-parse', '--show-toplevel'])).trim();
    if (top) return { root: path.resolve(top), fromGit: true };
  } catch {
    // not a work tree (or git is missing): the directory is the repository
  }
  return { root: path.resolve(dir), fromGit: false };
}

/**
 * The files git lists under `rel` (tracked, plus untracked that are not
 * ignored) — the same listing the inventory makes, restricted to one subtree.
 */
export async function gitFilesUnder(root: string, rel: string): Promise<string[]> {
  const out = await git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate', '--', `:(literal)${rel}`]);
  return out.split('\0').filter(Boolean);
}
