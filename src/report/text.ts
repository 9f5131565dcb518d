import type { Finding } from '../core/types.js';
import { countsTitle } from './escape.js';
import type { Report } from './types.js';

export interface TextOptions {
  color: boolean;
}

const COLORS = { error: 31, warning: 33, info: 36, dim: 2, bold: 1, green: 32 } as const;

/** Terminal control characters from repository text would let a file name rewrite the screen. */
const clean = (s: string): string => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');

/** Human report for a terminal: grouped by file; rule, level, line, message, help link. */
export function renderText(report: Report, opts: TextOptions): string {
  const paint = (code: number, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const groups = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const key = f.path ?? '';
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const out: string[] = [];
  const keys = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  for (const key of keys) {
    out.push(paint(COLORS.bold, key === '' ? '(repository)' : clean(key)));
    // Within a file, reading order beats severity order.
    const inFile = [...groups.get(key)!].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    for (const f of inFile) {
      const where = f.line ? `${f.line}${f.column ? `:${f.column}` : ''}` : '-';
      const level = paint(COLORS[f.level], f.level.padEnd(7));
      const waived = f.waived ? paint(COLORS.dim, ` [waived until ${f.waived.expires}, ${clean(f.waived.owner)}: ${clean(f.waived.reason)}]`) : '';
      out.push(`  ${where.padEnd(7)} ${level} ${(f.code ?? f.rule).padEnd(36)} ${clean(f.message)}${waived}`);
      out.push(`  ${' '.repeat(7)} ${paint(COLORS.dim, `help: ${f.help}`)}`);
    }
    out.push('');
  }
  const verdict = report.conclusion === 'failure' ? paint(COLORS.error, '✖ gate failed') : paint(COLORS.green, '✔ gate passed');
  out.push(`${verdict}: ${countsTitle(report.counts)} (${report.mode}, ${report.stats.files} files, ${report.stats.durationMs} ms)`);
  return `${out.join('\n')}\n`;
}
