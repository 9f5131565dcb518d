import type { FailOn, Finding, Level, Mode, RuleLevel, Waiver } from '../core/types.js';

export interface RuleStatus {
  id: string;
  level: RuleLevel;
  evaluated: boolean;
}

/** An exception in force (for the summary: who owns it, when it ends). */
export interface ExceptionInForce extends Waiver {
  rule: string;
  paths: string[];
  /** The sub-codes it is limited to, when it names some. */
  codes?: string[];
  /** How many finding fingerprints it names (a baseline's entries with the same owner, reason and expiry are counted together). */
  fingerprints?: number;
  /** How many findings it waived in this run. */
  matched: number;
}

/** Which repository and commit a report judges, so reports merged across an organisation stay told apart. */
export interface RepositoryInfo {
  /** `owner/name`. */
  name: string;
  commit: string | null;
  /** `refs/heads/main`, or null on a detached checkout. */
  ref: string | null;
  /** The repository's web page, e.g. https://github.com/owner/name. */
  url: string | null;
}

/** The JSON report, version 1 (DESIGN §7). */
export interface Report {
  version: 1;
  tool: { name: 'mlgate'; version: string };
  mode: Mode;
  conclusion: 'success' | 'failure';
  counts: Record<Level, number> & { waived: number };
  findings: Finding[];
  rules: RuleStatus[];
  stats: { files: number; bytesHashed: number; durationMs: number };
  /** Not part of the JSON contract's required keys, but reported: the exceptions in force. */
  exceptions: ExceptionInForce[];
  /** Absent when neither the caller nor the checkout says which repository this is. */
  repository?: RepositoryInfo;
  /** The fail-on threshold the conclusion was computed with. */
  failOn: FailOn;
}
