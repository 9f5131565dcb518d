import { expiryNotices, type ExceptionNotice } from './expiry.js';
import type { PolicyNoticeDecl, ResolvedPolicy } from './types.js';

export type PolicyDiagnostic = PolicyNoticeDecl | ExceptionNotice;

/**
 * What `check` reports about the policy itself, without a repository to
 * evaluate: the notices of loading it (`policy/unpinned-extends`) and each
 * exception's dates (`policy/expired-exception` is an error,
 * `policy/expiring-exception` a warning). Over-long exceptions and every other
 * mistake already failed `loadPolicy` as a ConfigurationError. Whether an
 * exception matches anything needs the findings, so only `check` can tell.
 */
export function policyDiagnostics(policy: ResolvedPolicy, opts: { today: Date }): PolicyDiagnostic[] {
  return [...policy.notices, ...policy.exceptions.flatMap((ex) => expiryNotices(ex, opts.today))];
}
