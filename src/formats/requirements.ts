import { valid as validPep440 } from '@renovatebot/pep440';

/**
 * pip requirements files (https://pip.pypa.io/en/stable/reference/requirements-file-format/)
 * and single PEP 508 requirement specifiers, read without executing anything and
 * keeping the line of every entry so findings land where the reader looks.
 */

export type SpecKind = 'named' | 'url' | 'vcs' | 'path';

export interface RequirementSpec {
  /** Distribution name as written (null for a bare URL or path without `#egg=`). */
  name: string | null;
  kind: SpecKind;
  /**
   * True when the spec can only ever resolve to one artifact: `==` with an exact
   * version (or a build variable standing for one), `===`, a VCS URL at a full
   * commit, a URL with a `#sha256=` fragment, or a local path.
   */
  pinned: boolean;
  /** The specifier as written after the name (e.g. `>=1.2`), or the URL. */
  specifier: string;
  /** Set when the text is not a requirement pip would accept. */
  invalid?: string;
}

export interface RequirementEntry {
  /** 1-based first and last physical line (continuations included). */
  line: number;
  endLine: number;
  kind: 'requirement' | 'editable' | 'include' | 'constraint' | 'option';
  spec?: RequirementSpec;
  /** `--hash` values given on the line. */
  hashes: string[];
  /** File named by `-r`/`-c`, or the option's name for other option lines. */
  target?: string;
  /** For other option lines, the value given to the option (`--extra-index-url <value>`). */
  value?: string;
}

export interface ParsedRequirements {
  entries: RequirementEntry[];
  /** `--require-hashes` appears as an option line. */
  requireHashes: boolean;
}

const VCS_PREFIXES = ['git+', 'hg+', 'svn+', 'bzr+'];
const ARCHIVE_SUFFIXES = ['.whl', '.tar.gz', '.tgz', '.zip', '.tar.bz2', '.tar.xz', '.tar'];
const HEX40 = /^[0-9a-f]{40}$/i;
const HASH_FRAGMENT = /(?:^|&)(sha256|sha384|sha512)=[0-9a-f]{64,128}(?:&|$)/i;
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

const isNameChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;

/** PEP 503 normalised name: case-folded, runs of `-_.` as one `-`. */
export function normalizeName(name: string): string {
  let out = '';
  let sep = false;
  for (const ch of name.toLowerCase()) {
    if (ch === '-' || ch === '_' || ch === '.') sep = true;
    else {
      if (sep && out) out += '-';
      sep = false;
      out += ch;
    }
  }
  return out;
}

/** A build variable (`$V`, `${V}`, `${{ matrix.v }}`, `%V%`) stands for a value chosen elsewhere. */
export function isVariable(text: string): boolean {
  return text.startsWith('$') || text.startsWith('%') || text.startsWith('{{');
}

/** Whether one PEP 440 specifier set (`==1.2.3`, `>=1,<2`) admits exactly one version. */
export function isExactSpecifier(specifier: string): boolean {
  for (const raw of specifier.split(',')) {
    const clause = raw.trim();
    if (clause.startsWith('===')) {
      if (clause.slice(3).trim()) return true;
      continue;
    }
    if (!clause.startsWith('==')) continue;
    const version = clause.slice(2).trim();
    if (!version || version.includes('*')) continue;
    if (isVariable(version) || validPep440(version)) return true;
  }
  return false;
}

function isLocalPath(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower.startsWith('file:')) return true;
  if (text.startsWith('.') || text.startsWith('/') || text.startsWith('~') || text.includes('\\')) return true;
  if (text.includes('/') && !text.includes('://')) return true;
  return ARCHIVE_SUFFIXES.some((s) => lower.endsWith(s)) && !text.includes('://');
}

function stripExtras(name: string): string {
  const i = name.indexOf('[');
  return (i === -1 ? name : name.slice(0, i)).trim();
}

function urlSpec(name: string | null, url: string): RequirementSpec {
  const hashAt = url.indexOf('#');
  const fragment = hashAt === -1 ? '' : url.slice(hashAt + 1);
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  if (!name) {
    const egg = fragment.split('&').find((p) => p.startsWith('egg='));
    if (egg) name = egg.slice(4) || null;
  }
  const lower = base.toLowerCase();
  // pip reads a bare `git://` URL as `git+git://` (a VCS checkout, pinned by its commit), not as an archive.
  if (VCS_PREFIXES.some((p) => lower.startsWith(p)) || lower.startsWith('git://')) {
    const afterScheme = base.slice(base.indexOf('://') + 3);
    const slash = afterScheme.indexOf('/');
    const path = slash === -1 ? '' : afterScheme.slice(slash);
    const at = path.lastIndexOf('@');
    const ref = at === -1 ? '' : path.slice(at + 1);
    return { name, kind: 'vcs', pinned: HEX40.test(ref), specifier: url };
  }
  if (lower.startsWith('file:')) return { name, kind: 'path', pinned: true, specifier: url };
  return { name, kind: 'url', pinned: HASH_FRAGMENT.test(fragment), specifier: url };
}

/** Reads one PEP 508 requirement (or a URL / local path, as pip also accepts). */
export function parseRequirementSpec(input: string): RequirementSpec {
  const text = input.trim();
  const scheme = text.indexOf('://');
  const lower = text.toLowerCase();
  if (scheme !== -1 || VCS_PREFIXES.some((p) => lower.startsWith(p))) {
    // `name @ url ; marker`: the marker separator needs whitespace before it.
    const markerAt = text.indexOf(' ;');
    const body = markerAt === -1 ? text : text.slice(0, markerAt).trim();
    const at = body.indexOf('@');
    const schemeAt = body.indexOf('://');
    if (at !== -1 && (schemeAt === -1 || at < schemeAt) && !VCS_PREFIXES.some((p) => lower.startsWith(p))) {
      const name = stripExtras(body.slice(0, at));
      const spec = urlSpec(name || null, body.slice(at + 1).trim());
      if (name && !NAME.test(name)) spec.invalid = `"${name}" is not a valid distribution name`;
      return spec;
    }
    return urlSpec(null, body);
  }
  const semi = text.indexOf(';');
  const body = (semi === -1 ? text : text.slice(0, semi)).trim();
  if (isLocalPath(body)) return { name: null, kind: 'path', pinned: true, specifier: body };
  let end = 0;
  while (end < body.length && isNameChar(body.charCodeAt(end))) end++;
  const name = body.slice(0, end);
  let rest = body.slice(end).trim();
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    rest = close === -1 ? rest : rest.slice(close + 1).trim();
  }
  if (rest.startsWith('(') && rest.endsWith(')')) rest = rest.slice(1, -1).trim();
  if (rest.startsWith('@')) return urlSpec(name || null, rest.slice(1).trim());
  const spec: RequirementSpec = { name: name || null, kind: 'named', pinned: false, specifier: rest };
  if (!name || !NAME.test(name)) spec.invalid = `"${body.slice(0, 80)}" is not a valid requirement`;
  else if (rest && !/^(===|==|!=|~=|>=|<=|>|<)/.test(rest)) spec.invalid = `"${rest.slice(0, 80)}" is not a version specifier`;
  else spec.pinned = isExactSpecifier(rest);
  return spec;
}

/** Splits on whitespace outside quotes; a quote-aware split keeps markers such as `"3.8"` whole. */
function words(text: string): string[] {
  const out: string[] = [];
  let start = -1;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === ' ' || ch === '\t') {
      if (start !== -1) out.push(text.slice(start, i));
      start = -1;
    } else {
      if (start === -1) start = i;
      if (ch === '"' || ch === "'") quote = ch;
    }
  }
  if (start !== -1) out.push(text.slice(start));
  return out;
}

/** The comment rule pip applies: `#` at the start or after whitespace. */
function stripComment(line: string): string {
  for (let i = line.indexOf('#'); i !== -1; i = line.indexOf('#', i + 1)) {
    if (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t') return line.slice(0, i);
  }
  return line;
}

const INCLUDE_OPTS: Record<string, 'include' | 'constraint' | 'editable'> = {
  '-r': 'include',
  '--requirement': 'include',
  '-c': 'constraint',
  '--constraint': 'constraint',
  '-e': 'editable',
  '--editable': 'editable',
};

function optionEntry(ws: string[], line: number, endLine: number): RequirementEntry {
  const first = ws[0]!;
  const eq = first.indexOf('=');
  let opt = eq === -1 ? first : first.slice(0, eq);
  let value = eq === -1 ? ws[1] : first.slice(eq + 1);
  // Short options may be glued to their value: `-rbase.txt`.
  if (!first.startsWith('--') && first.length > 2 && eq === -1) {
    opt = first.slice(0, 2);
    value = first.slice(2);
  }
  const kind = INCLUDE_OPTS[opt];
  if (!kind) return { line, endLine, kind: 'option', hashes: [], target: opt, ...(value !== undefined ? { value } : {}) };
  const target = (value ?? '').trim();
  if (kind === 'editable') return { line, endLine, kind, hashes: [], target, spec: parseRequirementSpec(target) };
  return { line, endLine, kind, hashes: [], target };
}

/** Parses a requirements file; never throws on any input (unknown lines become invalid specs). */
export function parseRequirements(text: string, signal?: AbortSignal): ParsedRequirements {
  const physical = text.split('\n');
  const entries: RequirementEntry[] = [];
  let requireHashes = false;
  for (let i = 0; i < physical.length; i++) {
    if ((i & 1023) === 0) signal?.throwIfAborted();
    const start = i;
    let logical = physical[i]!.replace(/\r$/, '');
    while (logical.endsWith('\\') && i + 1 < physical.length) {
      logical = logical.slice(0, -1) + ' ' + physical[++i]!.replace(/\r$/, '');
    }
    const ws = words(stripComment(logical).trim());
    if (ws.length === 0) continue;
    const line = start + 1;
    const endLine = i + 1;
    if (ws[0]!.startsWith('-')) {
      const entry = optionEntry(ws, line, endLine);
      if (entry.target === '--require-hashes') requireHashes = true;
      entries.push(entry);
      continue;
    }
    const specWords: string[] = [];
    const hashes: string[] = [];
    let k = 0;
    for (; k < ws.length && !ws[k]!.startsWith('--'); k++) specWords.push(ws[k]!);
    for (; k < ws.length; k++) {
      const w = ws[k]!;
      if (w.startsWith('--hash=')) hashes.push(w.slice(7));
      else if (w === '--hash' && k + 1 < ws.length) hashes.push(ws[++k]!);
    }
    entries.push({ line, endLine, kind: 'requirement', spec: parseRequirementSpec(specWords.join(' ')), hashes });
  }
  return { entries, requireHashes };
}
