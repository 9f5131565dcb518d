import { RE2JS } from 're2js';

/** Where GitHub looks for the file, in the order it looks (the first found is used). */
export const CODEOWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** GitHub does not load a CODEOWNERS file of 3 MB or more. */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

const MAX_PATTERN_CHARS = 1024;
const MAX_OWNERS_PER_LINE = 200;

export interface CodeownersEntry {
  /** 1-based line in the file. */
  line: number;
  pattern: string;
  /** As written; empty when the line un-assigns the paths it matches. */
  owners: string[];
  matches(path: string): boolean;
}

export interface CodeownersProblem {
  line: number;
  message: string;
}

export interface Codeowners {
  /** Valid lines, in file order. */
  entries: CodeownersEntry[];
  /** Lines GitHub skips (unsupported syntax, invalid owners). */
  problems: CodeownersProblem[];
  /** The entry that decides a file's owners: the last matching line. */
  ownerOf(path: string): CodeownersEntry | undefined;
}

const USER = /^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const TEAM = /^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$/;

export const isValidOwner = (owner: string): boolean => USER.test(owner) || TEAM.test(owner) || EMAIL.test(owner);

/**
 * Parses a CODEOWNERS file with GitHub's semantics: `#` starts a comment, the
 * first token is a gitignore-style pattern, the rest are owners, and the last
 * matching line wins. `\` escapes the character after it (`f\*o`, `\[id\]`).
 * Syntax GitHub does not support (`!` negation, unescaped `[ ]` ranges) and
 * malformed owners make GitHub skip the line; they are returned as problems and
 * take no part in matching.
 */
export function parseCodeowners(text: string): Codeowners {
  const entries: CodeownersEntry[] = [];
  const problems: CodeownersProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const tokens = raw.trim().split(/\s+/).filter(Boolean);
    const comment = tokens.findIndex((t) => t.startsWith('#'));
    if (comment !== -1) tokens.length = comment;
    const [pattern, ...owners] = tokens;
    if (pattern === undefined) return;
    const unsupported = patternProblem(pattern);
    if (unsupported) {
      problems.push({ line, message: `\`${clip(pattern)}\`: ${unsupported}` });
      return;
    }
    const bad = owners.filter((o) => !isValidOwner(o));
    if (bad.length > 0) {
      problems.push({ line, message: `${bad.map((o) => `\`${clip(o)}\``).join(', ')} is not a valid owner (write @user, @org/team or an email address)` });
      return;
    }
    if (owners.length > MAX_OWNERS_PER_LINE) {
      problems.push({ line, message: `more than ${MAX_OWNERS_PER_LINE} owners on one line` });
      return;
    }
    const re = RE2JS.compile(patternToRegex(pattern));
    entries.push({ line, pattern, owners, matches: (p) => re.matches(p) });
  });
  return {
    entries,
    problems,
    ownerOf(path) {
      for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.matches(path)) return entries[i];
      return undefined;
    },
  };
}

function patternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_CHARS) return `pattern longer than ${MAX_PATTERN_CHARS} characters`;
  if (pattern.startsWith('!')) return 'GitHub does not support `!` negation in CODEOWNERS; the line is ignored';
  for (let k = 0; k < pattern.length; k++) {
    const ch = pattern[k];
    if (ch === '\\') {
      if (k + 1 === pattern.length) return 'a trailing `\\` escapes nothing; remove it';
      k++;
    } else if (ch === '[' || ch === ']') return 'GitHub does not support `[ ]` character ranges in CODEOWNERS; the line is ignored (write `\\[` and `\\]` for literal brackets)';
  }
  if (pattern === '/') return 'a lone `/` matches nothing; write `*` for every file';
  return undefined;
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

const quote = (s: string): string => s.replace(/[.+^${}()|\\?*[\]]/g, '\\$&');

/** One path segment of a pattern as a regular expression that never crosses `/`. */
function segmentRegex(seg: string): string {
  let out = '';
  for (let k = 0; k < seg.length; k++) {
    const ch = seg[k]!;
    if (ch === '\\' && k + 1 < seg.length) out += quote(seg[++k]!);
    else out += ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : quote(ch);
  }
  return out;
}

/**
 * gitignore-style pattern → regular expression over a whole file path:
 * a `/` at the start or in the middle anchors at the root, otherwise the pattern
 * matches at any depth; a trailing `/` matches directories only; a match on a
 * directory covers everything below it, except after a final `/*`, which GitHub
 * documents as direct children only; `**` spans directories.
 */
export function patternToRegex(pattern: string): string {
  let p = pattern;
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/+$/, '');
  const anchored = p.includes('/');
  p = p.replace(/^\/+/, '');
  const segs = p.split('/');
  let body = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      // `a/**/b` and a leading `**/` span zero or more directories; a trailing `/**` everything inside.
      body += last ? '.*' : '(?:.*/)?';
      return;
    }
    body += segmentRegex(seg.replace(/(?<!\\)\*{2,}/g, '*'));
    if (!last) body += '/';
  });
  const prefix = anchored ? '' : '(?:.*/)?';
  const lastSeg = segs[segs.length - 1];
  let suffix: string;
  if (lastSeg === '**') suffix = '';
  else if (dirOnly) suffix = '/.*';
  // `docs/*` and `/*` both mean the files directly in that directory, not what lies deeper.
  else if (lastSeg === '*' && (segs.length > 1 || anchored)) suffix = '';
  else suffix = '(?:/.*)?';
  // A trailing `/**` needs something inside the directory: `a/**` does not match `a` itself.
  if (lastSeg === '**' && segs.length > 1) body = body.replace(/\.\*$/, '.+');
  return `${prefix}${body}${suffix}`;
}
