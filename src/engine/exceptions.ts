import { matchesAny } from '../inventory/inventory.js';
import type { ResolvedException } from '../policies/types.js';
import type { ExceptionInForce } from '../report/types.js';
import type { Finding } from '../core/types.js';
import { describeException, exceptionLocation, expiryNotices, type ExceptionNotice } from '../policies/expiry.js';

/** The sub-code of a finding (`model-signing/unsigned` → `unsigned`). */
const subCode = (f: Finding): string | undefined => (f.code?.startsWith(`${f.rule}/`) ? f.code.slice(f.rule.length + 1) : f.code);

/**
 * Whether `ex` waives `f`: the rule, and every selector it gives (paths,
 * codes, fingerprints). `**` and `.` also cover findings on the repository as
 * a whole (no path). A code the exception may not waive (a tampering code by
 * path alone, or one a lock does not list) is never covered.
 */
export function covers(ex: ResolvedException, f: Finding): boolean {
  if (f.rule !== ex.rule) return false;
  const code = subCode(f);
  if (f.path ? !matchesAny(f.path, ex.paths) : !ex.paths.some((p) => p === '.' || p === '**')) return false;
  if (ex.codes && (code === undefined || !ex.codes.includes(code))) return false;
  if (ex.fingerprints && !ex.fingerprints.includes(f.fingerprint)) return false;
  if (code !== undefined && ex.withheld?.includes(code)) return false;
  if (ex.onlyCodes && (code === undefined || !ex.onlyCodes.includes(code))) return false;
  return true;
}

/**
 * Marks findings covered by an exception as waived (they are still reported) and
 * reports on the exceptions themselves: expired ones are errors, ones that match
 * nothing (full mode only — in changed mode most files are simply not evaluated)
 * and ones about to expire are warnings. Baseline entries with the same rule,
 * owner, reason and expiry are listed as one exception in force.
 */
export function applyExceptions(
  findings: Finding[],
  exceptions: readonly ResolvedException[],
  now: Date,
  fullMode: boolean,
): { inForce: ExceptionInForce[]; notices: ExceptionNotice[] } {
  const inForce: ExceptionInForce[] = [];
  const grouped = new Map<string, ExceptionInForce>();
  const notices: ExceptionNotice[] = [];
  for (const ex of exceptions) {
    const dated = expiryNotices(ex, now);
    if (dated.some((n) => n.level === 'error')) {
      notices.push(...dated);
      continue;
    }
    let matched = 0;
    for (const f of findings) {
      if (f.waived || !covers(ex, f)) continue;
      f.waived = { reason: ex.reason, owner: ex.owner, expires: ex.expires, ...(ex.source === 'baseline' ? { source: 'baseline' as const } : {}) };
      matched++;
      // A baseline entry stands for one finding: a second one just like it (the same call pasted again) is new.
      if (ex.source === 'baseline') break;
    }
    if (ex.source === 'baseline') {
      const key = JSON.stringify([ex.rule, ex.owner, ex.reason, ex.expires]);
      const group = grouped.get(key);
      if (group) {
        const shown = ex.entryPath ?? '.';
        if (!group.paths.includes(shown)) group.paths.push(shown);
        group.fingerprints = (group.fingerprints ?? 0) + (ex.fingerprints?.length ?? 0);
        group.matched += matched;
      } else {
        const entry: ExceptionInForce = { rule: ex.rule, paths: [ex.entryPath ?? '.'], reason: ex.reason, owner: ex.owner, expires: ex.expires, source: 'baseline', fingerprints: ex.fingerprints?.length ?? 0, matched };
        grouped.set(key, entry);
        inForce.push(entry);
      }
    } else {
      inForce.push({
        rule: ex.rule,
        paths: ex.paths,
        ...(ex.codes ? { codes: ex.codes } : {}),
        ...(ex.fingerprints ? { fingerprints: ex.fingerprints.length } : {}),
        reason: ex.reason,
        owner: ex.owner,
        expires: ex.expires,
        matched,
      });
    }
    if (matched === 0 && fullMode) {
      const fix = ex.source === 'baseline' ? 'the finding it recorded is gone (fixed, or its file moved); run `mlgate baseline --prune` to remove it' : 'remove it';
      notices.push({ code: 'policy/unused-exception', level: 'warning', message: `the ${describeException(ex)} matched no finding: ${fix}`, ...exceptionLocation(ex) });
    }
    notices.push(...dated);
  }
  return { inForce, notices };
}
