import type { ChangeList } from './changed.js';
import { git } from './git.js';

/**
 * Parses `git diff --name-status -z -M` output: statuses A, M, D, T, R<score>,
 * C<score>; renames and copies carry two paths.
 */
export function parseNameStatus(out: string): ChangeList & { added: string[]; modified: string[]; deleted: string[]; renamed: [string, string][] } {
  const parts = out.split('\0');
  const added: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  const renamed: [string, string][] = [];
  for (let i = 0; i < parts.length; ) {
    const status = parts[i++];
    if (!status) continue;
    const kind = status[0];
    if (kind === 'R' || kind === 'C') {
      const from = parts[i++];
      const to = parts[i++];
      if (from === undefined || to === undefined) break; // truncated output
      if (kind === 'R') renamed.push([to, from]);
      else added.push(to);
    } else {
      const p = parts[i++];
      if (p === undefined) break;
      if (kind === 'A') added.push(p);
      else if (kind === 'D') deleted.push(p);
      else modified.push(p); // M, T (type change), U, X
    }
  }
  return { added, modified, deleted, renamed };
}

/**
 * What changed from the merge base of `base` to `head` (or to the work tree,
 * untracked files included, when no head is given — what a pre-commit hook sees;
 * with a head, untracked files are no part of the evaluation).
 */
export async function gitChanges(root: string, base: string, head?: string): Promise<ChangeList> {
  const mergeBase = (await git(root, ['merge-base', base, head ?? 'HEAD'])).trim();
  const range = head ? [mergeBase, head] : [mergeBase];
  // Against the work tree the untracked files are part of the change: git lists them while it diffs. What the index
  // changed since the merge base (no stat, unlike `diff-files`) tells the inventory, with the diff, which entries to trust.
  const [diff, others, indexed] = await Promise.all([
    git(root, ['diff', '--name-status', '-z', '-M', '--relative', '--no-ext-diff', '--no-textconv', ...range, '--', '.']),
    head ? undefined : git(root, ['ls-files', '-z', '--others', '--exclude-standard']),
    head ? undefined : git(root, ['diff-index', '--cached', '--name-only', '-z', '--relative', mergeBase, '--', '.']),
  ]);
  const list = parseNameStatus(diff);
  // Between two commits nothing untracked is evaluated: no directory walk at all (2,000 directories in a 100,000-file monorepo).
  if (others === undefined || indexed === undefined) return { ...list, untracked: [] };
  const untracked = others.split('\0').filter(Boolean);
  const dirty = [...new Set([...list.added, ...list.modified, ...list.deleted, ...list.renamed.flat(), ...indexed.split('\0').filter(Boolean)])];
  list.added.push(...untracked);
  return { ...list, untracked, dirty };
}
