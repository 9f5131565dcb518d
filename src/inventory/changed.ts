import { matchesAny } from './inventory.js';
import type { ChangedSet } from './types.js';

export interface ChangeList {
  added?: Iterable<string>;
  modified?: Iterable<string>;
  deleted?: Iterable<string>;
  /** [newPath, oldPath] */
  renamed?: Iterable<readonly [string, string]>;
  /**
   * Set when git gave the change: the untracked files the inventory lists, so
   * it does not walk every directory again. Against the work tree, its
   * untracked, not ignored files (also in `added`); between two commits, none —
   * a file git does not track is in neither commit.
   */
  untracked?: readonly string[];
  /**
   * Set when git gave the change against the work tree: tracked paths whose
   * work-tree file may differ from the index — every path the index or the
   * work tree changed since the merge base (if neither did, both match it, so
   * each other) — which the inventory reuses instead of statting every file again.
   */
  dirty?: readonly string[];
}

export function createChangedSet(list: ChangeList): ChangedSet {
  const added = new Set(list.added ?? []);
  const deleted = new Set(list.deleted ?? []);
  const renamed = new Map(list.renamed ?? []);
  const changed = new Set([...added, ...(list.modified ?? []), ...renamed.keys()]);
  const all = new Set([...changed, ...deleted, ...renamed.values()]);
  return {
    changed,
    added,
    deleted,
    renamed,
    touches: (p) => all.has(p),
    touchesAny: (globs) => [...all].some((p) => matchesAny(p, globs)),
    all: () => [...all].sort(),
  };
}
