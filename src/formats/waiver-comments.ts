import { NotebookError, parseNotebook } from './notebook.js';

/**
 * `# mlgate: ignore[rule/code, …] reason="…" owner=@team expires=YYYY-MM-DD`
 * (or `<!-- mlgate: … -->` in Markdown), as written: checking the names and
 * dates against the policy is the engine's job.
 */
export interface WaiverComment {
  /** 1-based line of the file the comment is on. */
  line: number;
  /** Absent in a notebook, where the cell's text is escaped inside a JSON string. */
  column?: number;
  /** The lines it covers: its own and the next one (of the notebook cell, for a notebook). */
  covers: number[];
  /** The directive from `mlgate:` on, whitespace collapsed: what must already be in the base commit. */
  text: string;
  /** `rule` or `rule/code` entries of `ignore[…]`. */
  selectors: string[];
  attrs: Record<string, string>;
  /** Why the comment cannot be read; the other fields are then partial. */
  problem?: string;
}

export type CommentStyle = 'hash' | 'markdown' | 'notebook';

const HASH_NAMES = /(^|\/)(Dockerfile|Containerfile)([.-][^/]*)?$|(^|\/)requirements[^/]*\.(txt|in)$|\.(py|pyi|sh|bash|zsh|ya?ml|toml|cfg|ini|txt|in|r|R|jl|mk)$|(^|\/)(Makefile|\.gitattributes|CODEOWNERS|\.env)$/;

/** Which comment syntax a file carries waivers in; undefined: none (binary formats, JSON, …). */
export function commentStyle(path: string): CommentStyle | undefined {
  if (/\.ipynb$/i.test(path)) return 'notebook';
  if (/\.(md|markdown)$/i.test(path)) return 'markdown';
  return HASH_NAMES.test(path) ? 'hash' : undefined;
}

/** Longest directive read; anything longer is a problem, not a reason to scan further. */
const MAX_DIRECTIVE = 4000;
const HASH_DIRECTIVE = /#\s*mlgate:/;
const MD_DIRECTIVE = /<!--\s*mlgate:/;

/** `key="quoted \" value"` or `key=bare` pairs; the whole rest must be made of them. */
function parseAttrs(rest: string): { attrs: Record<string, string>; problem?: string } {
  const attrs: Record<string, string> = {};
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /\s/.test(rest[i]!)) i++;
    if (i >= rest.length) break;
    const key = /^([a-z][a-z-]*)=/.exec(rest.slice(i));
    if (!key) return { attrs, problem: `expected key=value at ${JSON.stringify(rest.slice(i, i + 30))}` };
    i += key[0].length;
    let value = '';
    if (rest[i] === '"') {
      i++;
      let closed = false;
      while (i < rest.length) {
        const c = rest[i++]!;
        if (c === '\\' && i < rest.length) value += rest[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return { attrs, problem: `the quoted value of ${key[1]} is not closed` };
    } else {
      while (i < rest.length && !/\s/.test(rest[i]!)) value += rest[i++];
    }
    if (key[1]! in attrs) return { attrs, problem: `${key[1]} is given twice` };
    attrs[key[1]!] = value;
  }
  return { attrs };
}

function directiveAt(lineText: string, style: 'hash' | 'markdown', line: number, next: number): WaiverComment | undefined {
  const m = (style === 'markdown' ? MD_DIRECTIVE : HASH_DIRECTIVE).exec(lineText);
  if (!m) return undefined;
  let body = lineText.slice(m.index + m[0].length);
  if (style === 'markdown') {
    const end = body.indexOf('-->');
    body = end >= 0 ? body.slice(0, end) : body;
  }
  const text = `mlgate:${body.replace(/\s+/g, ' ').trimEnd()}`;
  const out: WaiverComment = { line, column: m.index + 1, covers: [line, next], text, selectors: [], attrs: {} };
  if (body.length > MAX_DIRECTIVE) return { ...out, problem: `the comment is longer than ${MAX_DIRECTIVE} characters` };
  const head = /^\s*ignore\[([^\]]*)\]/.exec(body);
  if (!head) return { ...out, problem: 'an mlgate comment must read `mlgate: ignore[rule/code] reason="…" owner=@team expires=YYYY-MM-DD`' };
  const selectors = head[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  const { attrs, problem } = parseAttrs(body.slice(head[0].length));
  return { ...out, selectors, attrs, ...(problem ? { problem } : {}) };
}

/** The waiver comments of one line-numbered piece of text; `fileLine` maps its 0-based lines to file lines. */
function scanLines(source: string, style: 'hash' | 'markdown', fileLine: (i: number) => number): WaiverComment[] {
  const out: WaiverComment[] = [];
  const lines = source.split('\n');
  lines.forEach((l, i) => {
    if (!l.includes('mlgate:')) return;
    const found = directiveAt(l, style, fileLine(i), fileLine(i + 1));
    if (found) out.push(found);
  });
  return out;
}

/**
 * Every waiver comment of a file. A notebook's are read from its cells (code
 * cells `#`, Markdown cells `<!-- -->`) at the .ipynb lines they sit on; a
 * notebook that is not valid JSON has none (its own findings say why).
 */
export function findWaiverComments(path: string, text: string): WaiverComment[] {
  const style = commentStyle(path);
  if (!style || !text.includes('mlgate:')) return [];
  if (style !== 'notebook') return scanLines(text, style, (i) => i + 1);
  let cells;
  try {
    cells = parseNotebook(text).cells;
  } catch (e) {
    if (e instanceof NotebookError) return [];
    throw e;
  }
  return cells.flatMap((cell) => {
    const last = cell.fileLines[cell.fileLines.length - 1]!;
    const at = (i: number) => cell.fileLines[i] ?? last;
    const found = cell.cellType === 'code' ? scanLines(cell.source, 'hash', at) : cell.cellType === 'markdown' ? scanLines(cell.source, 'markdown', at) : [];
    return found.map(({ column: _column, ...w }) => w);
  });
}
