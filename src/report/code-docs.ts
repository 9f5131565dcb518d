/**
 * The catalogue of finding codes, read from the rule pages (docs/rules/<id>.md):
 * the docs stay the one source of what a code means, for `mlgate rules CODE`
 * and for the SARIF rules alike. Pure: callers hand in the pages' text.
 */

/** One documented finding code: the table it is listed in and its row. */
export interface CodeDoc {
  /** Full code, `rule/sub-code`. */
  code: string;
  page: string;
  /** The table's header and separator lines. */
  header: string[];
  /** The row as written, without its HTML anchor. */
  row: string;
  /** The `id` of the `<a id="…"></a>` anchor in the row's first cell, when there is one. */
  anchor?: string;
}

const ANCHOR = /<a id="([^"]*)"><\/a>\s*/g;

export const stripAnchors = (markdown: string) => markdown.replace(ANCHOR, '');

export const tableCells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/**
 * The codes a page documents: rows of its tables whose first header cell is
 * `code` or `sub-code`; each backquoted name in a row's first cell is a code
 * (written with or without the `rule/` prefix).
 */
export function codesOfPage(page: string, text: string): CodeDoc[] {
  const lines = text.split('\n');
  const out: CodeDoc[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.trimStart().startsWith('|') || !/^\s*\|[\s:|-]+\|?\s*$/.test(lines[i + 1]!)) continue;
    if (!/^(sub-)?code$/i.test(tableCells(lines[i]!)[0] ?? '')) continue;
    const header = [lines[i]!, lines[i + 1]!];
    for (let j = i + 2; j < lines.length && lines[j]!.trimStart().startsWith('|'); j++) {
      const anchors = [...lines[j]!.matchAll(ANCHOR)].map((m) => m[1]!);
      const row = stripAnchors(lines[j]!);
      for (const m of (tableCells(row)[0] ?? '').matchAll(/`([^`]+)`/g)) {
        const name = m[1]!;
        const sub = name.startsWith(`${page}/`) ? name.slice(page.length + 1) : name;
        // A row may list several codes (`unparsable`, `budget-exceeded`): each has its own anchor, in order.
        const anchor = anchors.find((a) => a === sub);
        out.push({ code: `${page}/${sub}`, page, header, row, ...(anchor !== undefined ? { anchor } : {}) });
      }
    }
  }
  return out;
}

/** A table row as plain-text lines, `Column: value`, for readers without Markdown. */
export function rowAsText(doc: CodeDoc): string[] {
  const names = tableCells(doc.header[0]!);
  return tableCells(doc.row)
    .slice(1)
    .map((cell, i) => `${capitalise(names[i + 1] ?? '')}: ${plainText(cell)}`.replace(/^: /, ''))
    .filter((line) => !/:\s*$/.test(line));
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A column of the row by its header name (`meaning`, `level`…), as plain text. */
export function rowColumn(doc: CodeDoc, name: RegExp): string | undefined {
  const at = tableCells(doc.header[0]!).findIndex((h) => name.test(h));
  return at < 1 ? undefined : plainText(tableCells(doc.row)[at] ?? '') || undefined;
}

/** Markdown inline syntax stripped: code spans, links, emphasis, escaped pipes. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*([^*]*)\*\*/g, '$1')
    .replace(/\\\|/g, '|')
    .trim();
}
