/** Severity of a finding, lowest to highest. */
export type Level = 'info' | 'warning' | 'error';
/** A rule's configured level; `off` disables it. */
export type RuleLevel = Level | 'off';
export type FailOn = 'error' | 'warning' | 'never';
export type Mode = 'full' | 'changed';

export const LEVEL_RANK: Record<RuleLevel, number> = { off: 0, info: 1, warning: 2, error: 3 };

export function minLevel(a: Level, b: Level): Level {
  return LEVEL_RANK[a] <= LEVEL_RANK[b] ? a : b;
}

export interface Reference {
  /** e.g. `AML.M0014`, `LLM03`, `OMS-v1.0`. */
  id: string;
  url: string;
}

export interface Waiver {
  reason: string;
  owner: string;
  expires: string;
  /** Where it was written: a policy's `exceptions` (the default when absent), the baseline file, or an inline comment on the finding's line. */
  source?: 'policy' | 'baseline' | 'inline';
}

/** A finding as reported (DESIGN §5, JSON report §7). */
export interface Finding {
  rule: string;
  code?: string;
  level: Level;
  message: string;
  path?: string;
  line?: number;
  endLine?: number;
  column?: number;
  help: string;
  references: Reference[];
  fingerprint: string;
  waived: Waiver | null;
}

/** Where something is in a text file, 1-based. */
export interface Position {
  line: number;
  column: number;
}
