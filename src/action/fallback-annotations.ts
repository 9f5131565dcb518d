import type { Finding } from '../core/types.js';
import { renderWorkflowCommands } from '../report/workflow-commands.js';

/**
 * Workflow-command annotations for when the check run cannot be written (a
 * fork's read-only token, no `checks: write`): the lines `mlgate check
 * --format github` prints, most severe first because GitHub shows only the
 * first ten per level and step. Written straight to stdout, where the runner
 * reads commands, as `@actions/core` would.
 */
export function emitWorkflowAnnotations(findings: readonly Finding[], write: (s: string) => void = (s) => void process.stdout.write(s)): number {
  write(renderWorkflowCommands(findings));
  return findings.length;
}
