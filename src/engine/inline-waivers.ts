import type { Rule } from '../checks/rule.js';
import { commentStyle, findWaiverComments, type WaiverComment } from '../formats/waiver-comments.js';
import type { ChangedSet } from '../inventory/types.js';
import type { ResolvedRule } from '../policies/types.js';
import type { ExceptionInForce } from '../report/types.js';
import { EXPIRY_WARNING_DAYS, type ExceptionNotice } from '../policies/expiry.js';
import { didYouMean } from '../core/suggest.js';
import type { Finding } from '../core/types.js';

const DAY_MS = 86_400_000;
/** A waiver comment in a file larger than this is not read: the findings it would cover still count. */
export const MAX_WAIVER_FILE_BYTES = 2 * 1024 * 1024;
const ATTRS = ['reason', 'owner', 'expires'] as const;
const USAGE = 'write it as `# mlgate: ignore[rule/code] reason="why" owner=@team expires=YYYY-MM-DD`';

export interface InlineWaiverOptions {
  /** `inline-exceptions: allowed` in the merged policy. */
  allowed: boolean;
  registry: readonly Rule[];
  /** The policy's rules: a rule locked without `exceptions: allowed` takes no inline waiver either. */
  rules: ReadonlyMap<string, ResolvedRule>;
  maxExceptionDays: number;
  now: Date;
  fullMode: boolean;
  /** Files that may hold waiver comments (already cut by `paths.exclude`). */
  files: readonly string[];
  /** A file of the checked-out tree; undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /**
   * On a pull request, the base commit's version of a file (undefined: not in
   * the base). When given, a waiver counts only if its comment is already there.
   */
  baseFile?: (path: string) => Promise<string | undefined>;
  /** The PR's change list: a file it does not touch is as in the base. */
  changed?: ChangedSet | null;
}

interface ValidWaiver {
  comment: WaiverComment;
  path: string;
  selectors: { rule: string; code?: string }[];
  reason: string;
  owner: string;
  expires: string;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && isoDay(new Date(`${s}T00:00:00Z`)) === s;
const at = (path: string, c: WaiverComment) => ({ path, line: c.line, ...(c.column !== undefined ? { column: c.column } : {}) });

/** What is wrong with a comment, or the waiver it grants. */
function validate(path: string, c: WaiverComment, opts: InlineWaiverOptions): { waiver?: ValidWaiver; problems: string[] } {
  const problems: string[] = [];
  if (c.problem) return { problems: [c.problem] };
  if (c.selectors.length === 0) problems.push('`ignore[]` names no rule');
  const byId = new Map(opts.registry.map((r) => [r.id, r]));
  const selectors: ValidWaiver['selectors'] = [];
  for (const s of c.selectors) {
    const [ruleId, code, extra] = s.split('/');
    const rule = byId.get(ruleId!);
    if (!rule || extra !== undefined) {
      problems.push(`${JSON.stringify(s)} is not a rule id${didYouMean(ruleId!, byId.keys())}`);
      continue;
    }
    if (code !== undefined && rule.codes && !rule.codes.includes(code)) {
      problems.push(`${rule.id} reports no finding with the code ${JSON.stringify(code)}${didYouMean(code, rule.codes)}`);
      continue;
    }
    const resolved = opts.rules.get(rule.id);
    if (resolved && !resolved.exceptionsAllowed) {
      problems.push(`${resolved.lockedBy ?? 'the organisation policy'} locks ${rule.id} without \`exceptions: allowed\`, so no exception to it can be granted here, inline or in the policy`);
      continue;
    }
    selectors.push({ rule: rule.id, ...(code !== undefined ? { code } : {}) });
  }
  for (const key of Object.keys(c.attrs)) {
    if (!(ATTRS as readonly string[]).includes(key)) problems.push(`unknown key ${key}${didYouMean(key, ATTRS)}`);
  }
  const missing = ATTRS.filter((k) => !c.attrs[k]?.trim());
  if (missing.length) problems.push(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: every waiver needs a reason, an owner and an expiry date`);
  const expires = c.attrs.expires;
  if (expires && !isDate(expires)) problems.push(`expires=${expires} is not a date YYYY-MM-DD`);
  else if (expires) {
    const limit = isoDay(new Date(opts.now.getTime() + opts.maxExceptionDays * DAY_MS));
    if (expires > limit) problems.push(`expires ${expires}, more than ${opts.maxExceptionDays} days ahead (max-exception-days); the latest allowed date is ${limit}`);
  }
  if (problems.length) return { problems };
  return { waiver: { comment: c, path, selectors, reason: c.attrs.reason!, owner: c.attrs.owner!, expires: expires! }, problems };
}

const covers = (w: ValidWaiver, f: Finding) =>
  !f.waived && f.path === w.path && f.line !== undefined && w.comment.covers.includes(f.line) && w.selectors.some((s) => s.rule === f.rule && (s.code === undefined || f.code === `${s.rule}/${s.code}`));

/**
 * Whether a PR's waiver comment was already in the base commit: the same
 * directive text anywhere in the base version of the file (lines move; the
 * comment's words must not). Undefined when the base could not be read.
 */
async function inBase(w: ValidWaiver, opts: InlineWaiverOptions, cache: Map<string, Promise<Set<string> | undefined>>): Promise<boolean | undefined> {
  if (!opts.baseFile) return true;
  const changed = opts.changed;
  if (changed && !changed.touches(w.path)) return true;
  const basePath = changed?.renamed.get(w.path) ?? w.path;
  let texts = cache.get(basePath);
  if (!texts) {
    texts = opts.baseFile(basePath).then(
      (t) => new Set(t === undefined ? [] : findWaiverComments(basePath, t).map((c) => c.text)),
      () => undefined,
    );
    cache.set(basePath, texts);
  }
  const set = await texts;
  return set === undefined ? undefined : set.has(w.comment.text);
}

/**
 * Inline waivers (`# mlgate: ignore[…]`): marks the findings on a comment's
 * line or the next as waived, like an exception, and reports on the comments
 * themselves. Unreadable, incomplete, over-long or expired ones are errors at
 * the comment; on a pull request one the PR adds itself is an info that it
 * applies after merge, and the finding still counts.
 */
export async function applyInlineWaivers(findings: Finding[], opts: InlineWaiverOptions): Promise<{ inForce: ExceptionInForce[]; notices: ExceptionNotice[] }> {
  const notices: ExceptionNotice[] = [];
  const inForce: ExceptionInForce[] = [];
  // Per file, so that a file of many comments costs comments × its own findings, not × the repository's.
  const located = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.waived || f.path === undefined || f.line === undefined) continue;
    const list = located.get(f.path);
    if (list) list.push(f);
    else located.set(f.path, [f]);
  }
  // With waivers off only the files with findings are read, to say why a comment there waives nothing;
  // on a change, the files it touches too (a broken comment it adds is its business, an old one elsewhere is not).
  const read = (p: string) => located.has(p) || (opts.allowed && (!opts.changed || opts.changed.changed.has(p)));
  const files = opts.files.filter((p) => read(p) && commentStyle(p) !== undefined);
  const today = isoDay(opts.now);
  const soon = isoDay(new Date(opts.now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS));
  const base = new Map<string, Promise<Set<string> | undefined>>();

  for (const path of files) {
    let text: string | undefined;
    try {
      text = await opts.readText(path);
    } catch {
      text = undefined;
    }
    if (text === undefined) continue;
    const here = located.get(path) ?? [];
    for (const c of findWaiverComments(path, text)) {
      if (!opts.allowed) {
        if (here.some((f) => c.covers.includes(f.line!))) {
          notices.push({ code: 'policy/inline-waivers-disabled', level: 'info', message: `this mlgate comment waives nothing: the policy does not set \`inline-exceptions: allowed\`. Fix the finding, or add an exception to the policy`, ...at(path, c) });
        }
        continue;
      }
      const { waiver, problems } = validate(path, c, opts);
      if (!waiver) {
        notices.push({ code: 'policy/invalid-inline-waiver', level: 'error', message: `this mlgate waiver comment cannot be used, so it waives nothing: ${problems.join('; ')}. ${USAGE}`, ...at(path, c) });
        continue;
      }
      const label = `inline waiver of ${waiver.selectors.map((s) => (s.code ? `${s.rule}/${s.code}` : s.rule)).join(', ')} (owner ${waiver.owner})`;
      if (waiver.expires < today) {
        notices.push({ code: 'policy/expired-inline-waiver', level: 'error', message: `the ${label} expired on ${waiver.expires}: fix the finding it covered or renew it with a new reason and date`, ...at(path, c) });
        continue;
      }
      const targets = here.filter((f) => covers(waiver, f));
      if (targets.length === 0) {
        if (opts.fullMode) notices.push({ code: 'policy/unused-exception', level: 'warning', message: `the ${label} matches no finding on its line or the next: remove it`, ...at(path, c) });
        continue;
      }
      const trusted = await inBase(waiver, opts, base);
      if (trusted !== true) {
        const why =
          trusted === false
            ? 'this pull request adds it, and a change cannot waive its own findings'
            : 'the base commit of this pull request could not be read to confirm it was already there';
        notices.push({ code: 'policy/inline-waiver-pending', level: 'info', message: `the ${label} applies after merge: ${why}, so the finding still counts here`, ...at(path, c) });
        continue;
      }
      for (const f of targets) f.waived = { reason: waiver.reason, owner: waiver.owner, expires: waiver.expires, source: 'inline' };
      for (const rule of new Set(targets.map((f) => f.rule))) {
        inForce.push({ rule, source: 'inline', paths: [`${path}:${c.line}`], reason: waiver.reason, owner: waiver.owner, expires: waiver.expires, matched: targets.filter((f) => f.rule === rule).length });
      }
      if (waiver.expires <= soon) {
        notices.push({ code: 'policy/expiring-exception', level: 'warning', message: `the ${label} expires on ${waiver.expires}, within ${EXPIRY_WARNING_DAYS} days`, ...at(path, c) });
      }
    }
  }
  return { inForce, notices };
}
