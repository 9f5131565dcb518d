/**
 * A bounded POSIX-shell lexer good enough to find the commands a script runs:
 * quotes, escapes, line continuations, comments, command and process
 * substitutions, redirections and here-documents. It never evaluates anything
 * and runs in time linear in the input (each substitution is re-read once per
 * nesting level, and nesting is capped by the caller).
 */

/** A piece of shell nested in a word: `$(…)`, `` `…` `` or `<(…)`. */
export interface Substitution {
  text: string;
  /** 0-based line of the script where the substitution's text starts. */
  line: number;
  kind: 'command' | 'process';
}

export interface Word {
  /** The word with quotes removed and substitutions kept as written. */
  value: string;
  /** 0-based line where the word starts. */
  line: number;
  subs: Substitution[];
  /** True when part of the word was quoted (so it is never an operator or keyword). */
  quoted: boolean;
}

export interface Redirect {
  op: string;
  target?: Word;
}

export interface HereDoc {
  body: string;
  /** 0-based line of the body's first line. */
  line: number;
}

export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
  heredocs: HereDoc[];
  /** 0-based line of the command's first word (or redirect). */
  line: number;
}

/** Commands joined by `|`. */
export type Pipeline = SimpleCommand[];

const OPERATOR_CHARS = new Set([';', '&', '|', '(', ')']);
const MAX_TOKENS = 500_000;
const SPECIAL = new Set(['\\', '\n', ' ', '\t', '\r', "'", '"', '$', '`', '<', '>', '&', ';', '|', '(', ')']);

interface PendingHereDoc {
  delimiter: string;
  stripTabs: boolean;
  command: SimpleCommand;
}

/** Reads a script into pipelines; the separators between them (`&&`, `;`, newlines) do not matter here. */
export function lexShell(text: string, signal?: AbortSignal): Pipeline[] {
  const pipelines: Pipeline[] = [];
  let pipeline: Pipeline = [];
  let cmd: SimpleCommand = { words: [], redirects: [], heredocs: [], line: 0 };
  let word: Word | null = null;
  let pendingRedirect: Redirect | null = null;
  let pendingHereDocs: PendingHereDoc[] = [];
  let expectHereDelimiter: { stripTabs: boolean } | null = null;
  let line = 0;
  let tokens = 0;
  let i = 0;
  const n = text.length;

  const startWord = (): Word => {
    if (!word) word = { value: '', line, subs: [], quoted: false };
    return word;
  };
  const endWord = (): void => {
    if (!word) return;
    const w: Word = word;
    word = null;
    if (++tokens > MAX_TOKENS) throw new Error(`shell text has more than ${MAX_TOKENS} words`);
    if (expectHereDelimiter) {
      pendingHereDocs.push({ delimiter: w.value, stripTabs: expectHereDelimiter.stripTabs, command: cmd });
      expectHereDelimiter = null;
      return;
    }
    if (pendingRedirect) {
      pendingRedirect.target = w;
      pendingRedirect = null;
      return;
    }
    if (cmd.words.length === 0 && cmd.redirects.length === 0) cmd.line = w.line;
    cmd.words.push(w);
  };
  const endCommand = (): void => {
    endWord();
    if (cmd.words.length > 0 || cmd.redirects.length > 0 || pendingHereDocs.some((h) => h.command === cmd)) pipeline.push(cmd);
    cmd = { words: [], redirects: [], heredocs: [], line };
  };
  const endPipeline = (): void => {
    endCommand();
    if (pipeline.length > 0) pipelines.push(pipeline);
    pipeline = [];
  };
  /** Index just past the `)` that closes a `(` opened before `from`, skipping quotes. */
  const matchParen = (from: number): number => {
    let depth = 1;
    let j = from;
    while (j < n) {
      const c = text[j]!;
      if (c === '\\') j += 2;
      else if (c === "'") {
        const k = text.indexOf("'", j + 1);
        j = k === -1 ? n : k + 1;
      } else if (c === '"') {
        j++;
        while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        j++;
      } else {
        if (c === '(') depth++;
        else if (c === ')' && --depth === 0) return j + 1;
        j++;
      }
    }
    return n;
  };
  const countLines = (from: number, to: number): number => {
    let c = 0;
    for (let k = from; k < to && k < n; k++) if (text.charCodeAt(k) === 10) c++;
    return c;
  };
  /** Reads `$(…)` / `<(…)` starting at the `(`; returns the index after it. */
  const readParenSub = (open: number, kind: Substitution['kind'], prefix: string): number => {
    const end = matchParen(open + 1);
    const w = startWord();
    const body = text.slice(open + 1, Math.max(open + 1, end - 1));
    w.subs.push({ text: body, line, kind });
    w.value += `${prefix}(${body})`;
    line += countLines(open, end);
    return end;
  };
  const readBacktick = (open: number): number => {
    let j = open + 1;
    while (j < n && text[j] !== '`') j += text[j] === '\\' ? 2 : 1;
    const body = text.slice(open + 1, Math.min(j, n));
    const w = startWord();
    w.subs.push({ text: body, line, kind: 'command' });
    w.value += `\`${body}\``;
    line += countLines(open, j);
    return Math.min(j + 1, n);
  };
  const readDollar = (at: number): number => {
    const w = startWord();
    const next = text[at + 1];
    if (next === '(') return readParenSub(at + 1, 'command', '$');
    if (next === '{') {
      const close = text.indexOf('}', at + 2);
      const end = close === -1 ? n : close + 1;
      w.value += text.slice(at, end);
      line += countLines(at, end);
      return end;
    }
    w.value += '$';
    return at + 1;
  };
  const readHereDocBodies = (): void => {
    for (const h of pendingHereDocs) {
      const bodyLine = line;
      const parts: string[] = [];
      while (i < n) {
        const eol = text.indexOf('\n', i);
        const end = eol === -1 ? n : eol;
        let content = text.slice(i, end).replace(/\r$/, '');
        i = eol === -1 ? n : eol + 1;
        line++;
        if (h.stripTabs) content = content.replace(/^\t+/, '');
        if (content === h.delimiter) break;
        parts.push(content);
      }
      h.command.heredocs.push({ body: parts.join('\n'), line: bodyLine });
    }
    pendingHereDocs = [];
  };

  let steps = 0;
  while (i < n) {
    if ((++steps & 0xffff) === 0) signal?.throwIfAborted();
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '\n' || (next === '\r' && text[i + 2] === '\n')) {
        i += next === '\n' ? 2 : 3;
        line++;
        continue;
      }
      if (next !== undefined) startWord().value += next;
      i += 2;
      continue;
    }
    if (c === '\n') {
      endPipeline();
      line++;
      i++;
      if (pendingHereDocs.length > 0) readHereDocBodies();
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
      continue;
    }
    if (c === '#' && !word) {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? n : eol;
      continue;
    }
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      const end = close === -1 ? n : close;
      const w = startWord();
      w.quoted = true;
      w.value += text.slice(i + 1, end);
      line += countLines(i, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      const w = startWord();
      w.quoted = true;
      i++;
      while (i < n && text[i] !== '"') {
        const d = text[i]!;
        if (d === '\\' && i + 1 < n) {
          const e = text[i + 1]!;
          if (e === '\n') line++;
          else w.value += '$`"\\'.includes(e) ? e : `\\${e}`;
          i += 2;
        } else if (d === '$') i = readDollar(i);
        else if (d === '`') i = readBacktick(i);
        else {
          if (d === '\n') line++;
          w.value += d;
          i++;
        }
      }
      i++;
      continue;
    }
    if (c === '$') {
      i = readDollar(i);
      continue;
    }
    if (c === '`') {
      i = readBacktick(i);
      continue;
    }
    if ((c === '<' || c === '>') && text[i + 1] === '(') {
      i = readParenSub(i + 1, 'process', c);
      continue;
    }
    if (c === '<' || c === '>') {
      // A word of digits right before a redirection is its file descriptor (`2>`).
      const fdWord = word as Word | null;
      if (fdWord && !fdWord.quoted && /^\d+$/.test(fdWord.value)) word = null;
      else endWord();
      if (c === '<' && text.startsWith('<<<', i)) {
        pendingRedirect = { op: '<<<' };
        cmd.redirects.push(pendingRedirect);
        i += 3;
      } else if (c === '<' && text[i + 1] === '<') {
        const stripTabs = text[i + 2] === '-';
        expectHereDelimiter = { stripTabs };
        i += stripTabs ? 3 : 2;
      } else {
        let j = i + 1;
        while (j < n && (text[j] === '>' || text[j] === '&' || text[j] === '|')) j++;
        const op = text.slice(i, j);
        // `2>&1` duplicates a descriptor: its target is a number, not a file.
        if (op.endsWith('&') && /\d|-/.test(text[j] ?? '')) {
          while (j < n && /[\d-]/.test(text[j]!)) j++;
        } else {
          pendingRedirect = { op };
          cmd.redirects.push(pendingRedirect);
        }
        i = j;
      }
      if (cmd.words.length === 0 && cmd.redirects.length <= 1) cmd.line = line;
      continue;
    }
    if (c === '&' && text[i + 1] === '>') {
      endWord();
      const op = text[i + 2] === '>' ? '&>>' : '&>';
      pendingRedirect = { op };
      cmd.redirects.push(pendingRedirect);
      i += op.length;
      continue;
    }
    if (OPERATOR_CHARS.has(c)) {
      if (c === '|' && text[i + 1] !== '|') {
        endCommand();
        i += text[i + 1] === '&' ? 2 : 1;
        continue;
      }
      endPipeline();
      i += (c === '&' || c === '|' || c === ';') && text[i + 1] === c ? 2 : 1;
      continue;
    }
    // Plain characters are copied in runs, not one by one.
    let j = i + 1;
    while (j < n && !SPECIAL.has(text[j]!)) j++;
    startWord().value += text.slice(i, j);
    i = j;
  }
  endPipeline();
  if (pendingHereDocs.length > 0) readHereDocBodies();
  return pipelines;
}
