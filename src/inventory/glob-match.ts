import { Minimatch } from 'minimatch';

export interface GlobMatcher {
  match(path: string): boolean;
}

const globCache = new Map<string, GlobMatcher>();
const LITERAL = /^[^*?[\]{}()!+@\\]+$/;

/** Whether text is a name, not a pattern: no glob or extglob character (escapes included, to be safe). */
export function isLiteralGlob(text: string): boolean {
  return LITERAL.test(text);
}

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
  // Literal segments with `*` inside them, optionally under a leading `**/` (`docs/threat-model*.md`, `**/Dockerfile.*`).
  const anyDepth = glob.startsWith('**/');
  const rest = anyDepth ? glob.slice(3) : glob;
  const segs = rest.split('/');
  if (segs.every((s) => s !== '' && s !== '**' && STAR_ONLY.test(s))) {
    const body = segs.map((s) => s.replace(/[.^$|\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('/');
    const re = new RegExp(`^${anyDepth ? '(?:[^/]+/)*' : ''}${body}$`);
    return { match: (p) => re.test(p) };
  }
  return undefined;
}

const STAR_ONLY = /^[^?[\]{}()!+@\\]+$/;

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
