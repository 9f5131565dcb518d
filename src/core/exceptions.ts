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
  const today = now.toISOString().slice(0, 10);
  const soon = new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS).toISOString().slice(0, 10);
  const inForce: ExceptionInForce[] = [];
  const notices: ExceptionNotice[] = [];
  for (const ex of exceptions) {
    const where = { path: ex.localPath, line: ex.localPath ? ex.line : undefined, column: ex.localPath ? ex.column : undefined };
    const label = `exception for ${ex.rule} on ${ex.paths.join(', ')} (owner ${ex.owner}${ex.localPath ? '' : `, declared in ${ex.layer}`})`;
    if (ex.expires < today) {
      notices.push({ code: 'policy/expired-exception', level: 'error', message: `the ${label} expired on ${ex.expires}: fix the findings it covered or renew it with a new reason and date`, ...where });
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
      notices.push({ code: 'policy/unused-exception', level: 'warning', message: `the ${label} matched no finding: remove it`, ...where });
    }
    if (ex.expires <= soon) {
      notices.push({ code: 'policy/expiring-exception', level: 'warning', message: `the ${label} expires on ${ex.expires}, within ${EXPIRY_WARNING_DAYS} days`, ...where });
    }
  }
  return { inForce, notices };
}
