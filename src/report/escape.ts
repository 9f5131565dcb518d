/**
 * Characters that could end a line somewhere: CommonMark's CR and LF, and the
 * form feed and Unicode separators some renderers honour. They are written as
 * numeric references, which decode to the same character in the rendered text
 * but never split a line.
 */
const LINE_BREAKING = /[\n\f\r\u2028\u2029]/u;

/**
 * Characters no renderer shows as themselves — NUL, the other C0 and C1
 * controls (vertical tab and NEL among them), DEL, lone surrogates — become
 * U+FFFD, which is what CommonMark parsers make of them as references anyway.
 */
const UNSHOWABLE = /[\0-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]/u;

/** Runs a code span can hold as they are: no whitespace, controls, backticks, or `|` (which splits a GFM table cell even inside code). */
const CODE_SAFE_RUN = /[^\s\0-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff`|]+/gu;

/**
 * What GFM could turn into a link in plain text — `www.`, `scheme://` (http,
 * https, ftp, and more: any scheme is cheap to cover), `a@b.c` emails and
 * `mailto:`/`xmpp:` — and GitHub into a mention. Such a run is shown as code,
 * where no autolink applies; escaping its dots would not stop every renderer.
 */
const LINKISH = /www\.|:\/\/|@|mailto:|xmpp:/i;

/**
 * Punctuation with a meaning inside a line (emphasis, strikethrough, code,
 * links, images, escapes, GitHub's `$` math, ATX heading closers); `.`, `-`,
 * `:` and the like matter only at the start of a line, handled there, so
 * paths and sentences stay readable in the raw Markdown.
 */
const INLINE_SYNTAX = /[\\`*_~[\](){}!#+$]/;

const ref = (ch: string): string => `&#${ch.codePointAt(0)!};`;

/** Text outside code spans: syntax backslash-escaped, and what escapes cannot neutralise as references. */
function escapeText(text: string, atStart: boolean, atEnd: boolean): string {
  let out = '';
  for (const ch of text) {
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    // A reference, not `\|`: GFM splits table cells on pipes before it reads escapes.
    else if (ch === '|') out += '&#124;';
    else if (UNSHOWABLE.test(ch)) out += '\uFFFD';
    else if (LINE_BREAKING.test(ch)) out += ref(ch);
    else if (INLINE_SYNTAX.test(ch)) out += `\\${ch}`;
    else out += ch;
  }
  if (atStart) {
    // A paragraph or table cell drops its leading spaces and tabs; a line may open a list or a setext underline.
    out = out.replace(/^[ \t]/, ref).replace(/^[-=]/, '\\$&').replace(/^(\d{1,9})\./, '$1\\.');
  }
  if (atEnd) out = out.replace(/[ \t]$/, ref);
  return out;
}

/**
 * Escapes repository-derived text (file names, messages, global names,
 * exception reasons) for one line of Markdown: a list item, a table cell, a
 * heading or emphasis. The text renders as itself — no headings, lists,
 * links, images, HTML, table breaks or line breaks — with parts GFM would
 * autolink shown as code. The one escaper for every summary mlgate writes.
 */
export function escapeMarkdown(text: string): string {
  let out = '';
  let last = 0;
  const flush = (end: number) => {
    if (end > last) out += escapeText(text.slice(last, end), last === 0, end === text.length);
  };
  for (const m of text.matchAll(CODE_SAFE_RUN)) {
    if (!LINKISH.test(m[0])) continue;
    flush(m.index);
    out += `\`${m[0]}\``;
    last = m.index + m[0].length;
  }
  flush(text.length);
  return out;
}

/** Text shown as an inline code span when it can be one (identifiers: rule codes); escaped text otherwise. */
export function inlineCode(text: string): string {
  const whole = text.match(CODE_SAFE_RUN);
  return whole?.length === 1 && whole[0] === text ? `\`${text}\`` : escapeMarkdown(text);
}

/** A one-line summary of counts: `2 errors, 5 warnings`. */
export function countsTitle(counts: { error: number; warning: number; info: number; waived: number }): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = [plural(counts.error, 'error'), plural(counts.warning, 'warning')];
  if (counts.info > 0) parts.push(`${counts.info} info`);
  if (counts.waived > 0) parts.push(`${counts.waived} waived`);
  return parts.join(', ');
}
