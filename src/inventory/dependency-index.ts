import { compileGlob } from './inventory.js';
import { discoverModelRoots, type ModelRoot } from './model-roots.js';
import type { Inventory } from './types.js';
import { firstAtOrAfter } from './sorted-paths.js';

/**
 * Lookups over the listing, built once per changed-mode run without reading
 * any file, so that each rule can name what a changed path invalidates.
 */
export interface DependencyIndex {
  readonly inventory: Inventory;
  /** Files directly inside `dir` (`''` is the root), as repository paths. */
  filesIn(dir: string): readonly string[];
  /** Files anywhere under `dir` (`''` is the whole repository). */
  filesUnder(dir: string): readonly string[];
  /**
   * Files matching any of the globs. `mayMatch`, when given, is a cheap test
   * that rules out most paths before any glob runs; it must never rule out a
   * match (results are kept per glob list).
   */
  matching(globs: readonly string[], mayMatch?: (path: string) => boolean): readonly string[];
  /** The model roots, as `discoverModelRoots` finds them with these globs. */
  modelRoots(globs?: readonly string[]): readonly ModelRoot[];
}

const dirOf = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i === -1 ? '' : p.slice(0, i);
};

/** Each lookup is computed on first use: a change that touches no model never discovers model roots. */
export function createDependencyIndex(inventory: Inventory): DependencyIndex {
  let byDir: Map<string, string[]> | undefined;
  const globbed = new Map<string, readonly string[]>();
  const roots = new Map<string, readonly ModelRoot[]>();
  // inventory.files is sorted by path, so a directory's files are one run found by binary search.
  const paths = inventory.files.map((f) => f.path);
  return {
    inventory,
    filesIn(dir) {
      if (!byDir) {
        byDir = new Map();
        for (const p of paths) {
          const d = dirOf(p);
          const list = byDir.get(d);
          if (list) list.push(p);
          else byDir.set(d, [p]);
        }
      }
      return byDir.get(dir) ?? [];
    },
    filesUnder(dir) {
      if (dir === '' || dir === '.') return paths;
      const prefix = `${dir}/`;
      const out: string[] = [];
      for (let i = firstAtOrAfter(paths, prefix); i < paths.length && paths[i]!.startsWith(prefix); i++) out.push(paths[i]!);
      return out;
    },
    matching(globs, mayMatch) {
      const key = globs.join('\0');
      let hit = globbed.get(key);
      if (!hit) {
        const matchers = globs.map(compileGlob);
        hit = paths.filter((p) => (!mayMatch || mayMatch(p)) && matchers.some((m) => m.match(p)));
        globbed.set(key, hit);
      }
      return hit;
    },
    modelRoots(globs) {
      const key = globs?.join('\0') ?? '';
      let hit = roots.get(key);
      if (!hit) {
        hit = discoverModelRoots(inventory, globs);
        roots.set(key, hit);
      }
      return hit;
    },
  };
}
