import { LEVEL_RANK, type FailOn, type Finding, type Level } from '../core/types.js';

export function countFindings(findings: readonly Finding[]): Record<Level, number> & { waived: number } {
  const counts = { error: 0, warning: 0, info: 0, waived: 0 };
  for (const f of findings) {
    if (f.waived) counts.waived++;
    else counts[f.level]++;
  }
  return counts;
}

/** The gate fails when any unwaived finding is at or above `fail-on` (DESIGN §5). */
export function conclude(findings: readonly Finding[], failOn: FailOn): 'success' | 'failure' {
  if (failOn === 'never') return 'success';
  const threshold = LEVEL_RANK[failOn];
  return findings.some((f) => !f.waived && LEVEL_RANK[f.level] >= threshold) ? 'failure' : 'success';
}

/** Most severe first, then by file and line, so reports and annotations lead with what blocks. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      Number(!!a.waived) - Number(!!b.waived) ||
      LEVEL_RANK[b.level] - LEVEL_RANK[a.level] ||
      (a.path ?? '').localeCompare(b.path ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
}
