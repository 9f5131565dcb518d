import { helpUrl } from '../core/version.js';
import { LEVEL_RANK, type Finding, type Level } from '../core/types.js';
import { bySeverity } from './annotation-text.js';
import { countsTitle, escapeMarkdown as esc, inlineCode } from './escape.js';
import type { ExceptionInForce, Report } from './types.js';

export interface MarkdownOptions {
  /** Hard limit on the length of the result (a check run's summary takes 65,535 characters). */
  maxChars?: number;
  /** Shown when findings had to be left out, e.g. where the full list is. */
  overflowNote?: string;
  /** The day the exceptions' days left are counted from (default: today). */
  now?: Date;
}

const ICON = { error: '❌', warning: '⚠️', info: 'ℹ️' } as const;
const DAY_MS = 86_400_000;

function location(f: Finding): string {
  if (!f.path) return 'repository';
  return esc(f.line ? `${f.path}:${f.line}` : f.path);
}

/**
 * One finding on one line: where, the sub-code, and the message, which by the
 * rules' convention says what is wrong and ends with the fix (the one-line fix
 * a reviewer acts on), then the rule page's remediation.
 */
function findingLine(f: Finding): string {
  const code = ` ${inlineCode(f.code ?? f.rule)}`;
  const waived = f.waived ? ` — _waived until ${esc(f.waived.expires)} (${esc(f.waived.owner)}: ${esc(f.waived.reason)})_` : '';
  return `- ${ICON[f.level]} **${f.level}**${code} ${location(f)}: ${esc(f.message)} ([how to fix](${f.help}))${waived}`;
}

/** Unwaived findings at or above `fail-on`: the ones that fail the gate. */
export function isBlocking(f: Finding, failOn: Report['failOn']): boolean {
  return !f.waived && failOn !== 'never' && LEVEL_RANK[f.level] >= LEVEL_RANK[failOn];
}

/** Whole days from `now` (UTC) to the last day an exception is in force: 0 on that day. */
function daysLeft(expires: string, now: Date): string {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T00:00:00Z`) : NaN;
  if (Number.isNaN(end)) return '—';
  const days = Math.round((end - Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`)) / DAY_MS);
  return days < 0 ? 'expired' : days === 0 ? 'last day' : `${days} day${days === 1 ? '' : 's'}`;
}

interface Group {
  /** Lines before the findings (a label or an opening `<details>`) and after them. */
  open: string[];
  close: string[];
  findings: Finding[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const LEVEL_NAMES: Record<Level, (n: number) => string> = {
  error: (n) => plural(n, 'error'),
  warning: (n) => plural(n, 'warning'),
  info: (n) => `${n} info`,
};

/**
 * The check-run summary and job summary, in the order a reviewer reads it: the
 * verdict; what blocks this PR (each blocking finding with its file:line and
 * fix); the table by rule; the findings that do not block, collapsed by level;
 * and the exceptions in force with their owner and days left. Stays within
 * `maxChars`, saying so visibly when findings were left out.
 */
export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const max = opts.maxChars ?? Number.POSITIVE_INFINITY;
  const now = opts.now ?? new Date();
  const findings = [...report.findings].sort(bySeverity);
  const blocking = findings.filter((f) => isBlocking(f, report.failOn));
  const verdict = report.conclusion === 'failure' ? '❌ **Gate failed**' : '✅ **Gate passed**';
  const head: string[] = [
    `## mlgate ${report.tool.version}`,
    '',
    `${verdict} — ${countsTitle(report.counts)} (${report.mode} evaluation of ${report.stats.files} files, fails on: ${report.failOn})`,
    '',
  ];

  const groups: Group[] = [];
  if (blocking.length > 0) {
    const what = blocking.length === 1 ? 'this finding blocks' : `these ${blocking.length} findings block`;
    groups.push({ open: [`**What blocks this PR** — ${what} the merge: fix each, or add an owned, expiring exception to the policy.`, ''], close: [''], findings: blocking });
  }

  const table: string[] = [];
  if (findings.length > 0) table.push('### Findings', '');
  else table.push('No findings.', '');
  const byRule = new Map<string, { error: number; warning: number; info: number; waived: number }>();
  for (const f of findings) {
    const row = byRule.get(f.rule) ?? { error: 0, warning: 0, info: 0, waived: 0 };
    if (f.waived) row.waived++;
    else row[f.level]++;
    byRule.set(f.rule, row);
  }
  const evaluated = report.rules.filter((r) => r.evaluated);
  const ruleIds = [...new Set([...evaluated.map((r) => r.id), ...byRule.keys()])];
  if (ruleIds.length > 0) {
    table.push('| Rule | Level | Errors | Warnings | Info | Waived |', '| --- | --- | ---: | ---: | ---: | ---: |');
    for (const id of ruleIds) {
      const row = byRule.get(id) ?? { error: 0, warning: 0, info: 0, waived: 0 };
      const level = report.rules.find((r) => r.id === id)?.level ?? '—';
      table.push(`| [${esc(id)}](${helpUrl(id, report.tool.version)}) | ${level} | ${row.error} | ${row.warning} | ${row.info} | ${row.waived} |`);
    }
    table.push('');
  }

  // What does not block stays one click away: collapsed, most severe level first.
  const rest: Group[] = [];
  for (const level of ['error', 'warning', 'info'] as const) {
    const these = findings.filter((f) => !f.waived && f.level === level && !isBlocking(f, report.failOn));
    if (these.length > 0) rest.push(collapsed(`${ICON[level]} ${LEVEL_NAMES[level](these.length)} that ${these.length === 1 ? 'does' : 'do'} not block this PR`, these));
  }
  const waived = findings.filter((f) => f.waived);
  if (waived.length > 0) rest.push(collapsed(`${plural(waived.length, 'waived finding')} (an exception in force covers ${waived.length === 1 ? 'it' : 'them'})`, waived));

  const tail = exceptionsTable(report.exceptions, now);

  // Findings are kept in reading order until the budget runs out; the fixed parts always fit.
  const note = (left: number) => [`> **${left} more finding${left === 1 ? '' : 's'} not shown here.** ${esc(opts.overflowNote ?? 'See the full JSON report.')}`, ''];
  const frame = [...head, ...table, ...tail, ...[...groups, ...rest].flatMap((g) => [...g.open, ...g.close])];
  let size = frame.join('\n').length + note(findings.length).join('\n').length + 2;
  let left = 0;
  const kept = new Map<Group, string[]>();
  for (const g of [...groups, ...rest]) {
    const lines: string[] = [];
    for (const f of g.findings) {
      const line = findingLine(f);
      if (left > 0 || size + line.length + 1 > max) left++;
      else {
        lines.push(line);
        size += line.length + 1;
      }
    }
    kept.set(g, lines);
  }
  const render = (g: Group) => (kept.get(g)!.length > 0 ? [...g.open, ...kept.get(g)!, ...g.close] : []);
  const out = [...head, ...groups.flatMap(render), ...table, ...rest.flatMap(render), ...(left > 0 ? note(left) : []), ...tail];
  while (out.at(-1) === '') out.pop();
  const text = out.join('\n');
  return text.length > max ? cut(text, max, esc(opts.overflowNote ?? 'See the full JSON report.')) : text;
}

/**
 * The last resort when even the fixed parts do not fit (thousands of rules or
 * exceptions; no finding is kept then, so no `<details>` is open): whole lines
 * only, so no table row is split.
 */
function cut(text: string, max: number, where: string): string {
  const mark = `\n\n> **Summary truncated.** ${where}`;
  const lines = text.slice(0, Math.max(0, max - mark.length)).split('\n');
  return `${lines.slice(0, -1).join('\n')}${mark}`;
}

/** A `<details>` block: the summary line is counts only, never repository text, so the HTML stays balanced. */
function collapsed(summary: string, findings: Finding[]): Group {
  return { open: [`<details><summary>${summary}</summary>`, ''], close: ['', '</details>', ''], findings };
}

function exceptionsTable(exceptions: readonly ExceptionInForce[], now: Date): string[] {
  if (exceptions.length === 0) return [];
  const out = ['### Exceptions in force', '', '| Rule | Paths | Owner | Expires | Reason | Waived here | Days left |', '| --- | --- | --- | --- | --- | ---: | ---: |'];
  for (const ex of exceptions) {
    // Baseline entries are one per finding: their count, not hundreds of paths.
    const where = ex.source === 'baseline' ? `baseline: ${ex.fingerprints ?? 0} ${ex.fingerprints === 1 ? 'entry' : 'entries'} on ${ex.paths.length} ${ex.paths.length === 1 ? 'path' : 'paths'}` : ex.paths.join(', ');
    out.push(`| ${esc(ex.rule)}${ex.codes ? ` (${esc(ex.codes.join(', '))})` : ''} | ${esc(where)} | ${esc(ex.owner)} | ${esc(ex.expires)} | ${esc(ex.reason)} | ${ex.matched} | ${daysLeft(ex.expires, now)} |`);
  }
  return out;
}
