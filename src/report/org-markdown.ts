import { escapeMarkdown as esc, inlineCode } from './escape.js';
import type { OrgException, OrgReport, OrgRepository } from './org-types.js';

export interface OrgMarkdownOptions {
  /** A job summary takes at most 1 MiB; long lists are cut to fit, with a note. */
  maxRows?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const VERDICT = { success: '✅ passes', failure: '❌ fails', error: '⚠️ not checked' } as const;

function repoLink(r: Pick<OrgRepository, 'name' | 'url'>): string {
  return r.url ? `[${esc(r.name)}](${r.url})` : esc(r.name);
}

export function daysLeftText(days: number): string {
  if (days < 0) return `expired ${plural(-days, 'day')} ago`;
  return days === 0 ? 'last day' : plural(days, 'day');
}

/** A list of names, cut after `max` with how many more. */
function names(list: string[], max: number): string {
  const shown = list.slice(0, max).map(esc).join(', ');
  return list.length > max ? `${shown} and ${list.length - max} more` : shown;
}

/**
 * The organisation report as Markdown, for the sweep's job summary: what
 * changed, which rules fail where, the repositories that fail or could not be
 * checked, and the exceptions in force with the expired and expiring first.
 */
export function renderOrgMarkdown(report: OrgReport, opts: OrgMarkdownOptions = {}): string {
  const maxRows = opts.maxRows ?? 500;
  const s = report.summary;
  const out: string[] = [];
  out.push('# mlgate organisation report', '');
  out.push(
    `${s.repositories} ${s.repositories === 1 ? 'repository' : 'repositories'} on ${report.generatedAt.slice(0, 10)}: **${s.success} pass**, **${s.failure} fail**, **${s.error} could not be checked**. ` +
      `${plural(s.counts.error, 'error')}, ${plural(s.counts.warning, 'warning')}, ${s.counts.waived} waived.`,
    '',
  );
  const d = report.diff;
  if (d) {
    out.push(`## What changed since ${esc(d.previous.slice(0, 10))}`, '');
    const row = (label: string, list: string[]) => out.push(`- ${label} (${list.length})${list.length ? `: ${names(list, 50)}` : ''}`);
    row('Newly failing', d.newlyFailing);
    row('Fixed', d.fixed);
    row('No longer checked (clone or policy error)', d.newlyErrored);
    row('New repositories', d.added);
    row('Repositories gone', d.removed);
    out.push(`- New exceptions (${d.newExceptions.length})`);
    for (const e of d.newExceptions.slice(0, 50)) out.push(`  - ${esc(e.repository)} ${inlineCode(e.rule)}: ${esc(e.owner)}, until ${esc(e.expires)} — ${esc(e.reason)}`);
    if (d.newExceptions.length > 50) out.push(`  - … and ${d.newExceptions.length - 50} more in the JSON report`);
    out.push('');
  }
  if (report.rules.length) {
    out.push('## Rules', '', '| rule | repositories failing | with warnings only |', '| --- | ---: | ---: |');
    for (const r of report.rules) out.push(`| ${inlineCode(r.rule)} | ${r.failing.length} | ${r.warning.length} |`);
    out.push('');
  }
  const bad = report.repositories.filter((r) => r.status !== 'success').sort((a, b) => (a.status === b.status ? b.counts.error - a.counts.error : a.status === 'failure' ? -1 : 1));
  if (bad.length) {
    out.push('## Repositories that fail or could not be checked', '', '| repository | verdict | errors | warnings | waived | first problem |', '| --- | --- | ---: | ---: | ---: | --- |');
    for (const r of bad.slice(0, maxRows)) {
      const first = r.error ? `${r.error.stage}: ${r.error.reason}` : r.findings[0] ? `${r.findings[0].code ?? r.findings[0].rule}: ${r.findings[0].message}` : '';
      out.push(`| ${repoLink(r)} | ${VERDICT[r.status]} | ${r.counts.error} | ${r.counts.warning} | ${r.counts.waived} | ${esc(first.length > 200 ? `${first.slice(0, 199)}…` : first)} |`);
    }
    if (bad.length > maxRows) out.push('', `_${bad.length - maxRows} more in the JSON and HTML reports._`);
    out.push('');
  }
  if (report.exceptions.length) {
    out.push('## Exceptions in force (expired and expiring first)', '', '| days left | repository | rule | owner | expires | reason |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of report.exceptions.slice(0, maxRows)) out.push(exceptionRow(e));
    if (report.exceptions.length > maxRows) out.push('', `_${report.exceptions.length - maxRows} more in the JSON and HTML reports._`);
    out.push('');
  }
  const good = report.repositories.filter((r) => r.status === 'success');
  if (good.length) out.push(`## Repositories that pass (${good.length})`, '', names(good.map((r) => r.name), maxRows), '');
  if (report.warnings.length) {
    out.push(`## Reports that were not merged (${report.warnings.length})`, '');
    for (const w of report.warnings.slice(0, 100)) out.push(`- ${esc(w)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

function exceptionRow(e: OrgException): string {
  const what = e.codes?.length ? `${e.rule} (${e.codes.join(', ')})` : e.rule;
  return `| ${e.daysLeft < 0 ? '⛔ ' : e.daysLeft <= 30 ? '⏳ ' : ''}${daysLeftText(e.daysLeft)} | ${esc(e.repository)} | ${inlineCode(what)} | ${esc(e.owner)} | ${esc(e.expires)} | ${esc(e.reason)} |`;
}
