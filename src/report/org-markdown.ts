import { escapeMarkdown as esc, inlineCode } from './escape.js';
import type { OrgException, OrgReport, OrgRepository } from './org-types.js';

export interface OrgMarkdownOptions {
  /** A job summary takes at most 1 MiB; long lists are cut to fit, with a note. */
  maxRows?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

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
  const cut = (text: string) => esc(text.length > 200 ? `${text.slice(0, 199)}…` : text);
  // Unchecked first: a repository nobody could judge is a gap in the sweep, however many others fail.
  const unchecked = report.repositories.filter((r) => r.status === 'error');
  if (unchecked.length) {
    out.push(`## Repositories that could not be checked (${unchecked.length})`, '', '| repository | stage | reason |', '| --- | --- | --- |');
    for (const r of unchecked.slice(0, maxRows)) out.push(`| ${repoLink(r)} | ${esc(r.error?.stage ?? '')} | ${cut(r.error?.reason ?? '')} |`);
    if (unchecked.length > maxRows) out.push('', `_${unchecked.length - maxRows} more in the JSON and HTML reports._`);
    out.push('');
  }
  const failing = report.repositories.filter((r) => r.status === 'failure').sort((a, b) => b.counts.error - a.counts.error || a.name.localeCompare(b.name));
  if (failing.length) {
    out.push(`## Repositories that fail (${failing.length}, most errors first)`, '', '| repository | errors | warnings | waived | first problem |', '| --- | ---: | ---: | ---: | --- |');
    for (const r of failing.slice(0, maxRows)) {
      const f = r.findings[0];
      out.push(`| ${repoLink(r)} | ${r.counts.error} | ${r.counts.warning} | ${r.counts.waived} | ${f ? `${inlineCode(f.code ?? f.rule)} ${cut(f.message)}` : ''} |`);
    }
    if (failing.length > maxRows) out.push('', `_${failing.length - maxRows} more in the JSON and HTML reports._`);
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
