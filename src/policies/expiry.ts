import type { ResolvedException } from './types.js';
import type { Level } from '../core/types.js';

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

/** Where an exception is declared, for a notice about it (remote layers have no local place). */
export const exceptionLocation = (ex: ResolvedException) => ({ path: ex.localPath, line: ex.localPath ? ex.line : undefined, column: ex.localPath ? ex.column : undefined });
/** How a notice names an exception or baseline entry. */
export const describeException = (ex: ResolvedException) =>
  ex.source === 'baseline'
    ? `baseline entry for ${ex.rule}${ex.codes ? `/${ex.codes.join(',')}` : ''} on ${ex.entryPath ?? 'the repository'} (owner ${ex.owner})`
    : `exception for ${ex.rule}${ex.codes ? ` (${ex.codes.join(', ')})` : ''} on ${ex.paths.join(', ')} (owner ${ex.owner}${ex.localPath ? '' : `, declared in ${ex.layer}`})`;

/**
 * What an exception's date alone says, findings aside (so `policy validate`
 * can say it too): expired is an error, within 14 days of its end a warning.
 */
export function expiryNotices(ex: ResolvedException, now: Date): ExceptionNotice[] {
  const today = now.toISOString().slice(0, 10);
  const soon = new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY_MS).toISOString().slice(0, 10);
  if (ex.expires < today) {
    return [{ code: 'policy/expired-exception', level: 'error', message: `the ${describeException(ex)} expired on ${ex.expires}: fix the findings it covered or renew it with a new reason and date`, ...exceptionLocation(ex) }];
  }
  if (ex.expires <= soon) {
    return [{ code: 'policy/expiring-exception', level: 'warning', message: `the ${describeException(ex)} expires on ${ex.expires}, within ${EXPIRY_WARNING_DAYS} days`, ...exceptionLocation(ex) }];
  }
  return [];
}
