import type { Level } from '../core/types.js';
import type { ExceptionInForce, RepositoryInfo } from './types.js';

/**
 * What `org check` writes for a repository it could not judge, beside the JSON
 * reports of those it could: the sweep records every repository, never loses one.
 */
export interface ErrorResult {
  version: 1;
  tool: { name: 'mlgate'; version: string };
  repository: RepositoryInfo;
  error: {
    /** clone: the repository could not be fetched; policy: its policy is broken; evaluate: mlgate failed on it. */
    stage: 'clone' | 'policy' | 'evaluate';
    reason: string;
  };
}

export type RepositoryStatus = 'success' | 'failure' | 'error';

/** A finding as the organisation view keeps it: unwaived errors and warnings only (the counts hold the rest). */
export interface OrgFinding {
  rule: string;
  code: string | null;
  level: Exclude<Level, 'info'>;
  message: string;
  path: string | null;
  line: number | null;
  help: string;
}

export interface OrgRepository {
  name: string;
  url: string | null;
  commit: string | null;
  ref: string | null;
  status: RepositoryStatus;
  counts: Record<Level, number> & { waived: number };
  /** For `error`: why the repository could not be judged. */
  error?: { stage: string; reason: string };
  findings: OrgFinding[];
  /** Unwaived errors and warnings beyond the MAX_ORG_FINDINGS kept (the repository's own report has them all). */
  omitted: number;
  /** Which report file it came from, for whoever has to look closer. */
  source: string;
}

export interface OrgRule {
  rule: string;
  /** Repositories with an unwaived error of this rule. */
  failing: string[];
  /** Repositories with an unwaived warning of this rule (and no error). */
  warning: string[];
}

export interface OrgException extends Omit<ExceptionInForce, 'matched'> {
  repository: string;
  matched: number;
  /** Days from the merge date to the expiry; negative once expired. */
  daysLeft: number;
}

export interface OrgDiff {
  /** When the previous merged report was made. */
  previous: string;
  newlyFailing: string[];
  fixed: string[];
  /** Now unjudgeable (clone or policy error) and judged before. */
  newlyErrored: string[];
  added: string[];
  removed: string[];
  newExceptions: OrgException[];
}

/** The merged organisation report (`report merge --format json`). */
export interface OrgReport {
  version: 1;
  kind: 'mlgate-org-report';
  tool: { name: 'mlgate'; version: string };
  generatedAt: string;
  summary: {
    repositories: number;
    success: number;
    failure: number;
    error: number;
    counts: Record<Level, number> & { waived: number };
  };
  repositories: OrgRepository[];
  rules: OrgRule[];
  exceptions: OrgException[];
  diff?: OrgDiff;
  /** Inputs that were skipped or overridden (unreadable files, duplicate repositories). */
  warnings: string[];
}
