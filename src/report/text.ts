import { helpUrl } from '../core/version.js';
import { LEVEL_RANK, type Finding, type Level } from '../core/types.js';
import { countsTitle } from './escape.js';
import type { Report } from './types.js';
import { wrap } from './wrap.js';

export interface TextOptions {
  color: boolean;
  /** Columns to wrap messages to (the terminal's, or 80). */
  width: number;
  /** Only error findings and the verdict line. */
  quiet?: boolean;
  /** Findings below this level are not shown (the verdict and counts still include them). */
  minLevel?: Level;
  /** One-line notes from the front door (which policy applies, what was evaluated). */
  notes?: readonly string[];
  /**
   * How to show a repository path: the CLI makes it relative to the working
   * directory, so the `path:line:col` a terminal links opens the right file.
   */
  displayPath?: (repoPath: string) => string;
}

const SGR = { error: 31, warning: 33, info: 36, dim: 2, bold: 1, green: 32 } as const;

/** Terminal control characters from repository text would let a file name rewrite the screen. */
const clean = (s: string): string => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');

/** `path:line:col`, the form terminals and editors turn into a link; `(repository)` for findings about no file. */
function location(f: Finding, display: (p: string) => string): string {
  if (!f.path) return '(repository)';
  return `${clean(display(f.path))}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ''}` : ''}`;
}

/** Reading order: by file (repository-wide findings first), line, column, then severity. */
function readingOrder(a: Finding, b: Finding): number {
  const pa = a.path ?? '';
  const pb = b.path ?? '';
  return (pa === pb ? 0 : pa === '' ? -1 : pb === '' ? 1 : pa < pb ? -1 : 1) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || LEVEL_RANK[b.level] - LEVEL_RANK[a.level];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The report for a terminal, in the shape linters use: one `path:line:col:
 * level code` line per finding with the message wrapped under it, each rule's
 * help link once at the end, a summary by rule, and the verdict last.
 */
export function renderText(report: Report, opts: TextOptions): string {
  const paint = (code: number, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const floor = LEVEL_RANK[opts.quiet ? 'error' : (opts.minLevel ?? 'warning')];
  const shown = report.findings.filter((f) => LEVEL_RANK[f.level] >= floor && !(opts.quiet && f.waived)).sort(readingOrder);
  const out: string[] = [];

  if (!opts.quiet) for (const n of opts.notes ?? []) out.push(...wrap(`note: ${clean(n)}`, opts.width, '').map((l) => paint(SGR.dim, l)));
  if (out.length > 0 && shown.length > 0) out.push('');

  for (const f of shown) {
    const level = f.waived ? paint(SGR.dim, `${f.level} (waived)`) : paint(SGR[f.level], f.level);
    out.push(`${paint(SGR.bold, location(f, opts.displayPath ?? ((p) => p)))}: ${level} ${paint(SGR.dim, clean(f.code ?? f.rule))}`);
    out.push(...wrap(clean(f.message), opts.width, '    '));
    if (f.waived) out.push(...wrap(`waived until ${f.waived.expires} by ${clean(f.waived.owner)}: ${clean(f.waived.reason)}`, opts.width, '    ').map((l) => paint(SGR.dim, l)));
  }

  if (!opts.quiet && shown.length > 0) {
    const rules = [...new Set(shown.map((f) => f.rule))].sort();
    const pad = Math.max(...rules.map((r) => r.length));
    out.push('', 'How to fix:');
    // A URL is never broken: when the links do not fit beside the ids, each gets its own line.
    const fits = rules.every((r) => 2 + pad + 2 + helpUrl(r, report.tool.version).length <= opts.width);
    for (const r of rules) {
      const url = paint(SGR.dim, helpUrl(r, report.tool.version));
      out.push(...(fits ? [`  ${r.padEnd(pad)}  ${url}`] : [`  ${r}`, `    ${url}`]));
    }
  }
  if (!opts.quiet && report.findings.length > 0) {
    const byRule = new Map<string, number>();
    for (const f of report.findings) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
    const ranked = [...byRule].sort(([a, n], [b, m]) => m - n || (a < b ? -1 : 1));
    const hidden = report.findings.length - shown.length;
    const lowest = (['info', 'warning'] as const).find((l) => LEVEL_RANK[l] < floor && report.findings.some((f) => f.level === l));
    const note = hidden > 0 ? ` (${hidden} below ${opts.minLevel ?? 'warning'} not shown: --min-level ${lowest ?? 'info'} shows them)` : '';
    const summary = `${plural(report.findings.length, 'finding')}${note} by rule: ${ranked.map(([r, n]) => `${r} ${n}`).join(', ')}`;
    out.push(...(shown.length > 0 ? [''] : []), ...wrap(summary, opts.width, ''));
  }

  const verdict = report.conclusion === 'failure' ? paint(SGR.error, '✖ gate failed') : paint(SGR.green, '✔ gate passed');
  out.push(`${verdict}: ${countsTitle(report.counts)} (${report.mode}, ${plural(report.stats.files, 'file')}, ${report.stats.durationMs} ms)`);
  return `${out.join('\n')}\n`;
}
