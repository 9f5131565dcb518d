import { matchesAny } from './inventory.js';
import type { ChangedSet } from './types.js';

export interface ChangeList {
  added?: Iterable<string>;
  modified?: Iterable<string>;
  deleted?: Iterable<string>;
  /** [newPath, oldPath] */
  renamed?: Iterable<readonly [string, string]>;
  /**
   * Set when the change was taken against the work tree: its untracked, not
   * ignored files (also in `added`), which the inventory reuses instead of
   * walking every directory a second time.
   */
  untracked?: readonly string[];
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
