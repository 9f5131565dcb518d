import { helpUrl } from '../core/version.js';
import type { Finding } from '../core/types.js';
import { countsTitle, escapeMarkdown as esc, inlineCode } from './escape.js';
import type { Report } from './types.js';

export interface MarkdownOptions {
  /** Hard limit on the length of the result (a check run's summary takes 65,535 characters). */
  maxChars?: number;
  /** Shown when findings had to be left out, e.g. where the full list is. */
  overflowNote?: string;
}

const ICON = { error: '❌', warning: '⚠️', info: 'ℹ️' } as const;

function location(f: Finding): string {
  if (!f.path) return 'repository';
  return esc(f.line ? `${f.path}:${f.line}` : f.path);
}

function findingLine(f: Finding): string {
  const code = ` ${inlineCode(f.code ?? f.rule)}`;
  const waived = f.waived ? ` — _waived until ${esc(f.waived.expires)} (${esc(f.waived.owner)}: ${esc(f.waived.reason)})_` : '';
  return `- ${ICON[f.level]} **${f.level}**${code} ${location(f)}: ${esc(f.message)} ([how to fix](${f.help}))${waived}`;
}

/**
 * The check-run summary and job summary: verdict, a table by rule, every
 * finding with its remediation link, and the exceptions in force. Stays within
 * `maxChars`, saying so visibly when findings were left out.
 */
export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const max = opts.maxChars ?? Number.POSITIVE_INFINITY;
  const verdict = report.conclusion === 'failure' ? '❌ **Gate failed**' : '✅ **Gate passed**';
  const head: string[] = [
    `## mlgate ${report.tool.version}`,
    '',
    `${verdict} — ${countsTitle(report.counts)} (${report.mode} evaluation of ${report.stats.files} files, fails on: ${report.failOn})`,
    '',
  ];

  const byRule = new Map<string, { error: number; warning: number; info: number; waived: number }>();
  for (const f of report.findings) {
    const row = byRule.get(f.rule) ?? { error: 0, warning: 0, info: 0, waived: 0 };
    if (f.waived) row.waived++;
    else row[f.level]++;
    byRule.set(f.rule, row);
  }
  const evaluated = report.rules.filter((r) => r.evaluated);
  const ruleIds = [...new Set([...evaluated.map((r) => r.id), ...byRule.keys()])];
  if (ruleIds.length > 0) {
    head.push('| Rule | Level | Errors | Warnings | Info | Waived |', '| --- | --- | ---: | ---: | ---: | ---: |');
    for (const id of ruleIds) {
      const row = byRule.get(id) ?? { error: 0, warning: 0, info: 0, waived: 0 };
      const level = report.rules.find((r) => r.id === id)?.level ?? '—';
      head.push(`| [${esc(id)}](${helpUrl(id, report.tool.version)}) | ${level} | ${row.error} | ${row.warning} | ${row.info} | ${row.waived} |`);
    }
    head.push('');
  }

  const tail: string[] = [];
  if (report.exceptions.length > 0) {
    tail.push('', '### Exceptions in force', '', '| Rule | Paths | Owner | Expires | Reason | Waived here |', '| --- | --- | --- | --- | --- | ---: |');
    for (const ex of report.exceptions) {
      tail.push(`| ${esc(ex.rule)} | ${esc(ex.paths.join(', '))} | ${esc(ex.owner)} | ${esc(ex.expires)} | ${esc(ex.reason)} | ${ex.matched} |`);
    }
  }

  const body: string[] = [];
  if (report.findings.length > 0) body.push('### Findings', '');
  else body.push('No findings.');
  const note = (left: number) =>
    `\n> **${left} more finding${left === 1 ? '' : 's'} not shown here.** ${esc(opts.overflowNote ?? 'See the full JSON report.')}`;
  let size = head.join('\n').length + tail.join('\n').length + body.join('\n').length + 2;
  const reserve = note(report.findings.length).length + 2;
  for (let i = 0; i < report.findings.length; i++) {
    const line = findingLine(report.findings[i]!);
    if (size + line.length + 1 + reserve > max) {
      body.push(note(report.findings.length - i));
      break;
    }
    body.push(line);
    size += line.length + 1;
  }
  let out = [...head, ...body, ...tail].join('\n');
  if (out.length > max) out = `${out.slice(0, Math.max(0, max - 40))}\n\n> **Summary truncated.**`;
  return out;
}
