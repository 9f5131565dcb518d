import { matchesAny } from '../inventory/inventory.js';
import type { ResolvedException } from '../policies/types.js';
import type { ExceptionInForce } from '../report/types.js';
import type { Finding, Level } from './types.js';

export interface ExceptionNotice {
  code: string;
  level: Level;
  message: string;
  path?: string;
  line?: number;
  column?: number;
}

const DAY_MS = 86_400_000;
/** An exception this close to its end gets a warning so its owner renews or fixes in time. */
export const EXPIRY_WARNING_DAYS = 14;

const where = (ex: ResolvedException) => ({ path: ex.localPath, line: ex.localPath ? ex.line : undefined, column: ex.localPath ? ex.column : undefined });
const label = (ex: ResolvedException) => `exception for ${ex.rule} on ${ex.paths.join(', ')} (owner ${ex.owner}${ex.localPath ? '' : `, declared in ${ex.layer}`})`;

/**
 * What an exception's date alone says, findings aside (so `policy validate`
 * can say it too): expired is an error, within 14 days of its end a warning.
 */
export function expiryNotices(ex: ResolvedException, now: Date): ExceptionNotice[] {
  const today = now.toISOString().slice(0, 10);
  const soon = new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS).toISOString().slice(0, 10);
  if (ex.expires < today) {
    return [{ code: 'policy/expired-exception', level: 'error', message: `the ${label(ex)} expired on ${ex.expires}: fix the findings it covered or renew it with a new reason and date`, ...where(ex) }];
  }
  if (ex.expires <= soon) {
    return [{ code: 'policy/expiring-exception', level: 'warning', message: `the ${label(ex)} expires on ${ex.expires}, within ${EXPIRY_WARNING_DAYS} days`, ...where(ex) }];
  }
  return [];
}

/**
 * Marks findings covered by an exception as waived (they are still reported) and
 * reports on the exceptions themselves: expired ones are errors, ones that match
 * nothing (full mode only — in changed mode most files are simply not evaluated)
 * and ones about to expire are warnings.
 */
export function applyExceptions(
  findings: Finding[],
  exceptions: readonly ResolvedException[],
  now: Date,
  fullMode: boolean,
): { inForce: ExceptionInForce[]; notices: ExceptionNotice[] } {
  const inForce: ExceptionInForce[] = [];
  const notices: ExceptionNotice[] = [];
  for (const ex of exceptions) {
    const dated = expiryNotices(ex, now);
    if (dated.some((n) => n.level === 'error')) {
      notices.push(...dated);
      continue;
    }
    let matched = 0;
    for (const f of findings) {
      // A finding on the repository as a whole (no path) is covered by the path ".".
      const covered = f.path ? matchesAny(f.path, ex.paths) : ex.paths.includes('.');
      if (f.waived || f.rule !== ex.rule || !covered) continue;
      f.waived = { reason: ex.reason, owner: ex.owner, expires: ex.expires };
      matched++;
    }
    inForce.push({ rule: ex.rule, paths: ex.paths, reason: ex.reason, owner: ex.owner, expires: ex.expires, matched });
    if (matched === 0 && fullMode) {
      notices.push({ code: 'policy/unused-exception', level: 'warning', message: `the ${label(ex)} matched no finding: remove it`, ...where(ex) });
    }
    notices.push(...dated);
  }
  return { inForce, notices };
}
