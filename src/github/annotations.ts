import type { Finding } from '../core/types.js';
import { annotationMessage, annotationTitle, bySeverity, positive, remediation } from '../report/annotation-text.js';

export { bySeverity, truncateBytes } from '../report/annotation-text.js';

/** The Checks API takes at most this many annotations per request. */
export const ANNOTATIONS_PER_REQUEST = 50;

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title: string;
  raw_details: string;
}

/** A waived finding no longer gates, so it is a notice whatever its level. */
const LEVELS = { error: 'failure', warning: 'warning', info: 'notice' } as const;

/** Findings on a file, most severe first: the ones that become annotations (the rest stay in the summary). */
export function annotatable(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.path).sort(bySeverity);
}

/**
 * One annotation per finding of `annotatable`, in the same order (line 1 when
 * the finding has no line): the sub-code as title, the message (which ends with
 * the fix), and the remediation page and references as details.
 */
export function toAnnotations(findings: readonly Finding[]): CheckAnnotation[] {
  return annotatable(findings).map((f) => {
    const start = positive(f.line) ?? 1;
    const end = Math.max(start, positive(f.endLine) ?? start);
    const column = positive(f.column);
    return {
      path: f.path!,
      start_line: start,
      end_line: end,
      // The API accepts columns only on a single line.
      ...(column !== undefined && start === end ? { start_column: column } : {}),
      annotation_level: f.waived ? 'notice' : LEVELS[f.level],
      message: annotationMessage(f),
      title: annotationTitle(f),
      raw_details: remediation(f),
    };
  });
}

export function batches<T>(items: readonly T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
