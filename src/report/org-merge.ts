import type { Level } from '../core/types.js';
import type { OrgDiff, OrgException, OrgFinding, OrgReport, OrgRepository, OrgRule, RepositoryStatus } from './org-types.js';

/** Unwaived errors and warnings kept per repository: the page stays readable, the repository's own report has the rest. */
export const MAX_ORG_FINDINGS = 100;

export interface ReportInput {
  /** The file it was read from (shown when something is wrong with it). */
  source: string;
  data: unknown;
}

export interface MergeOptions {
  now: Date;
  toolVersion: string;
  previous?: OrgReport;
}

const LEVELS: readonly Level[] = ['error', 'warning', 'info'];
const DAY = 86_400_000;

/**
 * One organisation report from the per-repository JSON reports and error
 * results of a sweep. Every field read is checked for its type, since a
 * report is only as trustworthy as the repository that produced it; what does
 * not look like a report is listed in `warnings`, never merged half-read.
 */
export function mergeReports(inputs: Iterable<ReportInput>, opts: MergeOptions): OrgReport {
  const merger = new OrgMerger(opts);
  for (const input of inputs) merger.add(input);
  return merger.finish();
}

/** The same, one report at a time: only the reduced form of each is kept, so 10,000 reports fit in little memory. */
export class OrgMerger {
  private readonly byName = new Map<string, Read>();
  private readonly warnings: string[] = [];
  private readonly today: number;

  constructor(private readonly opts: MergeOptions) {
    this.today = Date.UTC(opts.now.getUTCFullYear(), opts.now.getUTCMonth(), opts.now.getUTCDate());
  }

  /** A file that could not be read or parsed at all. */
  skip(source: string, why: string): void {
    this.warnings.push(`${source}: ${why}; skipped`);
  }

  add({ source, data }: ReportInput): void {
    const read = readOne(source, data, this.today);
    if (typeof read === 'string') return this.skip(source, read);
    const key = read.repo.name.toLowerCase();
    const earlier = this.byName.get(key);
    if (earlier) this.warnings.push(`${read.repo.name}: reported by both ${earlier.repo.source} and ${source}; ${source} is kept`);
    this.byName.set(key, read);
  }

  finish(): OrgReport {
    const entries = [...this.byName.values()].sort((a, b) => a.repo.name.localeCompare(b.repo.name));
    const repositories = entries.map((e) => e.repo);
    const exceptions = entries.flatMap((e) => e.exceptions).sort(byUrgency);
    const counts = { error: 0, warning: 0, info: 0, waived: 0 };
    const status = { success: 0, failure: 0, error: 0 };
    for (const r of repositories) {
      status[r.status]++;
      for (const k of [...LEVELS, 'waived'] as const) counts[k] += r.counts[k];
    }
    const report: OrgReport = {
      version: 1,
      kind: 'mlgate-org-report',
      tool: { name: 'mlgate', version: this.opts.toolVersion },
      generatedAt: this.opts.now.toISOString(),
      summary: { repositories: repositories.length, ...status, counts },
      repositories,
      rules: ruleTable(entries),
      exceptions,
      warnings: this.warnings,
    };
    if (this.opts.previous) report.diff = diff(this.opts.previous, report);
    return report;
  }
}

/** Expired first, then the soonest to expire; ties by repository and rule. */
const byUrgency = (a: OrgException, b: OrgException) => a.daysLeft - b.daysLeft || a.repository.localeCompare(b.repository) || a.rule.localeCompare(b.rule);

function ruleTable(entries: Read[]): OrgRule[] {
  const rules = new Map<string, OrgRule>();
  for (const { repo, worst } of entries) {
    for (const [rule, level] of worst) {
      let row = rules.get(rule);
      if (!row) rules.set(rule, (row = { rule, failing: [], warning: [] }));
      (level === 'error' ? row.failing : row.warning).push(repo.name);
    }
  }
  return [...rules.values()].sort((a, b) => b.failing.length - a.failing.length || b.warning.length - a.warning.length || a.rule.localeCompare(b.rule));
}

function exceptionKey(e: OrgException): string {
  return JSON.stringify([e.repository.toLowerCase(), e.rule, e.owner, e.expires, e.reason, e.paths, e.codes ?? [], e.source ?? 'policy']);
}

function diff(previous: OrgReport, current: OrgReport): OrgDiff {
  const before = new Map((Array.isArray(previous.repositories) ? previous.repositories : []).map((r) => [String(r.name).toLowerCase(), r.status]));
  const now = new Map(current.repositories.map((r) => [r.name.toLowerCase(), r.status]));
  const known = new Set((Array.isArray(previous.exceptions) ? previous.exceptions : []).map(exceptionKey));
  const out: OrgDiff = { previous: String(previous.generatedAt), newlyFailing: [], fixed: [], newlyErrored: [], added: [], removed: [], newExceptions: [] };
  for (const r of current.repositories) {
    const was = before.get(r.name.toLowerCase());
    if (was === undefined) out.added.push(r.name);
    if (r.status === 'failure' && was !== 'failure') out.newlyFailing.push(r.name);
    if (r.status === 'success' && was === 'failure') out.fixed.push(r.name);
    if (r.status === 'error' && was !== undefined && was !== 'error') out.newlyErrored.push(r.name);
  }
  for (const r of previous.repositories ?? []) if (!now.has(String(r.name).toLowerCase())) out.removed.push(String(r.name));
  out.newExceptions = current.exceptions.filter((e) => !known.has(exceptionKey(e)));
  return out;
}

// --- reading one report, defensively -------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The name from a result file name (`owner__name.json`), for a report without `repository`. */
function nameFromSource(source: string): string | undefined {
  const base = source.split(/[\\/]/).pop()!.replace(/\.json$/i, '');
  const name = base.replace('__', '/');
  return NAME.test(name) ? name : undefined;
}

interface Read {
  repo: OrgRepository;
  exceptions: OrgException[];
  /** Each rule's most severe unwaived level, counted before the findings are capped. */
  worst: Map<string, 'error' | 'warning'>;
}

function readOne(source: string, data: unknown, today: number): Read | string {
  if (!isObj(data) || data.version !== 1 || !isObj(data.tool) || data.tool.name !== 'mlgate') return 'not an mlgate JSON report (version 1)';
  const repository = isObj(data.repository) ? data.repository : undefined;
  const name = str(repository?.name) ?? nameFromSource(source);
  if (!name || !NAME.test(name)) return repository ? `repository.name ${JSON.stringify(repository.name)} is not owner/name` : 'the report names no repository (run check with --repository OWNER/NAME)';
  const base = {
    name,
    url: safeUrl(str(repository?.url)),
    commit: /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(str(repository?.commit) ?? '') ? (repository!.commit as string) : null,
    ref: str(repository?.ref),
    source,
  };
  if (isObj(data.error)) {
    const stage = str(data.error.stage) ?? 'evaluate';
    const reason = str(data.error.reason) ?? 'no reason recorded';
    return { repo: { ...base, status: 'error', counts: { error: 0, warning: 0, info: 0, waived: 0 }, error: { stage, reason }, findings: [], omitted: 0 }, exceptions: [], worst: new Map() };
  }
  const c = isObj(data.counts) ? data.counts : {};
  const counts = { error: count(c.error), warning: count(c.warning), info: count(c.info), waived: count(c.waived) };
  if (Object.values(counts).some((n) => n === undefined) || !Array.isArray(data.findings)) return 'counts or findings are missing or not numbers and a list';
  const conclusion = data.conclusion;
  if (conclusion !== 'success' && conclusion !== 'failure') return `conclusion ${JSON.stringify(conclusion)} is neither success nor failure`;
  let findings: OrgFinding[] = [];
  for (const f of data.findings) {
    if (!isObj(f) || f.waived || (f.level !== 'error' && f.level !== 'warning') || typeof f.rule !== 'string' || typeof f.message !== 'string') continue;
    findings.push({
      rule: f.rule,
      code: str(f.code),
      level: f.level,
      message: f.message,
      path: str(f.path),
      line: count(f.line) ?? null,
      help: safeUrl(str(f.help)) ?? '',
    });
  }
  // Errors first, so the ones kept under the cap are the ones that fail the gate.
  findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
  const worst = new Map<string, 'error' | 'warning'>();
  for (const f of findings) if (worst.get(f.rule) !== 'error') worst.set(f.rule, f.level);
  const omitted = Math.max(0, findings.length - MAX_ORG_FINDINGS);
  if (omitted) findings = findings.slice(0, MAX_ORG_FINDINGS);
  const exceptions: OrgException[] = [];
  for (const e of Array.isArray(data.exceptions) ? data.exceptions : []) {
    if (!isObj(e) || typeof e.rule !== 'string') continue;
    const expires = str(e.expires) ?? '';
    const m = DATE.exec(expires);
    const daysLeft = m ? Math.round((Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - today) / DAY) : -Infinity;
    exceptions.push({
      repository: name,
      rule: e.rule,
      paths: Array.isArray(e.paths) ? e.paths.filter((p): p is string => typeof p === 'string') : [],
      ...(Array.isArray(e.codes) ? { codes: e.codes.filter((p): p is string => typeof p === 'string') } : {}),
      ...(count(e.fingerprints) !== undefined ? { fingerprints: count(e.fingerprints) } : {}),
      ...(e.source === 'policy' || e.source === 'baseline' || e.source === 'inline' ? { source: e.source } : {}),
      reason: str(e.reason) ?? '',
      owner: str(e.owner) ?? '',
      expires,
      matched: count(e.matched) ?? 0,
      // An unreadable date counts as expired: it cannot be shown to be in force.
      daysLeft: Number.isFinite(daysLeft) ? daysLeft : -99_999,
    });
  }
  const status: RepositoryStatus = conclusion;
  return { repo: { ...base, status, counts: counts as OrgRepository['counts'], findings, omitted }, exceptions, worst };
}

/** Links only to http(s): a report could carry `javascript:` in a URL field. */
function safeUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
