import * as core from '@actions/core';
import type { Finding } from '../core/types.js';
import { bySeverity, findingMessage, findingTitle } from '../github/annotations.js';

/**
 * Workflow-command annotations for when the check run cannot be written (a
 * fork's read-only token, no `checks: write`). GitHub shows only the first ten
 * per level and step, so the most severe go first. The toolkit escapes
 * newlines and property separators, so a message cannot start a command.
 */
export function emitWorkflowAnnotations(findings: readonly Finding[]): number {
  const sorted = [...findings].sort(bySeverity);
  for (const f of sorted) {
    const props: core.AnnotationProperties = { title: findingTitle(f) };
    if (f.path) {
      props.file = f.path;
      if (f.line) {
        props.startLine = f.line;
        if (f.endLine && f.endLine >= f.line) props.endLine = f.endLine;
        if (f.column && (!f.endLine || f.endLine === f.line)) props.startColumn = f.column;
      }
    }
    const message = findingMessage(f);
    if (f.waived || f.level === 'info') core.notice(message, props);
    else if (f.level === 'warning') core.warning(message, props);
    else core.error(message, props);
  }
  return sorted.length;
}
