import { braceExpand } from 'minimatch';
import { compileGlob, isLiteralGlob } from './glob-match.js';
import { firstAtOrAfter } from './sorted-paths.js';

/**
 * Where a glob's matches can be: one path, a directory's range of the sorted
 * listing, the files whose name ends in one extension, or anywhere. Only a
 * superset: the glob's own matcher has the last word on every candidate.
 */
type Plan = { kind: 'literal'; path: string } | { kind: 'prefix'; prefix: string } | { kind: 'ext'; ext: string } | { kind: 'scan' };

/** The extension a name is filed under: from its last dot (`.gz` for `a.tar.gz`, `.env` for `.env`), '' for none. */
function extOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot === -1 ? '' : name.slice(dot);
}

function planFor(glob: string): Plan {
  // Negations and comments mean more than a set of names: matched the long way.
  // So do empty, `.` and `..` segments, which minimatch folds away before matching (`a/b/..` matches `a`).
  if (glob === '' || glob.startsWith('!') || glob.startsWith('#')) return { kind: 'scan' };
  const segs = glob.split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..')) return { kind: 'scan' };
  if (isLiteralGlob(glob)) return { kind: 'literal', path: glob };
  let lead = 0;
  while (lead < segs.length - 1 && isLiteralGlob(segs[lead]!)) lead++;
  if (lead > 0) return { kind: 'prefix', prefix: `${segs.slice(0, lead).join('/')}/` };
  // The literal end of the file name (`.txt` of `*requirements*.txt`, all of `config.json`) fixes its extension.
  const last = segs[segs.length - 1]!;
  let tailStart = last.length;
  while (tailStart > 0 && isLiteralGlob(last[tailStart - 1]!)) tailStart--;
  const tail = last.slice(tailStart);
  if (last === '**') return { kind: 'scan' };
  if (tail.includes('.')) return { kind: 'ext', ext: extOf(tail) };
  // A whole literal name without a dot (`Dockerfile`, `CODEOWNERS`) is filed under no extension.
  if (tailStart === 0) return { kind: 'ext', ext: '' };
  return { kind: 'scan' };
}

export interface GlobIndex {
  /** Indexes (ascending) of the sorted paths that match any of the globs, as `matchesAny` would say. */
  match(globs: readonly string[]): number[];
}

/**
 * An index over a sorted listing that answers a glob list by looking where its
 * matches can be instead of testing every path: a 100,000-file repository is
 * asked for its `**\/config.json` or `data/**` files by several rules, most of
 * them in changed mode for the sake of ten files. Built on first use.
 */
export function createGlobIndex(paths: readonly string[]): GlobIndex {
  let byExt: Map<string, number[]> | undefined;
  const extIndex = (): Map<string, number[]> => {
    if (byExt) return byExt;
    byExt = new Map();
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!;
      const ext = extOf(p.slice(p.lastIndexOf('/') + 1));
      const bucket = byExt.get(ext);
      if (bucket) bucket.push(i);
      else byExt.set(ext, [i]);
    }
    return byExt;
  };
  const scanAll = (globs: readonly string[]): number[] => {
    const matchers = globs.map(compileGlob);
    const out: number[] = [];
    for (let i = 0; i < paths.length; i++) if (matchers.some((m) => m.match(paths[i]!))) out.push(i);
    return out;
  };
  return {
    match(globs) {
      if (globs.length === 0 || paths.length === 0) return [];
      const plans = globs.flatMap((g) => braceExpand(g).map(planFor));
      if (plans.some((p) => p.kind === 'scan')) return scanAll(globs);
      // Each plan's candidates come out ascending; only a union of several needs sorting.
      const lists = plans.map((plan): readonly number[] => {
        if (plan.kind === 'literal') {
          const i = firstAtOrAfter(paths, plan.path);
          return paths[i] === plan.path ? [i] : [];
        }
        if (plan.kind === 'prefix') {
          const out: number[] = [];
          for (let i = firstAtOrAfter(paths, plan.prefix); i < paths.length && paths[i]!.startsWith(plan.prefix); i++) out.push(i);
          return out;
        }
        return plan.kind === 'ext' ? (extIndex().get(plan.ext) ?? []) : [];
      });
      const candidates = lists.length === 1 ? lists[0]! : [...new Set(lists.flat())].sort((a, b) => a - b);
      const matchers = globs.map(compileGlob);
      return candidates.filter((i) => matchers.some((m) => m.match(paths[i]!)));
    },
  };
}
