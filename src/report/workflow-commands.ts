import type { Finding } from '../core/types.js';
import { annotationMessage, annotationTitle, bySeverity, MAX_TEXT_BYTES, positive, remediation, truncateBytes } from './annotation-text.js';

/**
 * The runner reads a command per line; these are the escapes it undoes
 * (as `@actions/core` writes them), so a message or file name can neither
 * end the line nor, in a property, start another property or the data.
 */
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::error file=…,line=…,endLine=…,col=…,title=…::message` for one finding; waived and info findings are notices. */
export function workflowCommand(f: Finding): string {
  const props: Array<[string, string | number]> = [];
  if (f.path) {
    props.push(['file', f.path]);
    const line = positive(f.line);
    if (line !== undefined) {
      props.push(['line', line]);
      const end = positive(f.endLine);
      if (end !== undefined && end > line) props.push(['endLine', end]);
      // The runner takes a column only on a single-line annotation, as the Checks API does.
      else if (positive(f.column) !== undefined) props.push(['col', f.column!]);
    }
  }
  props.push(['title', annotationTitle(f)]);
  const command = f.waived || f.level === 'info' ? 'notice' : f.level;
  const data = truncateBytes(`${annotationMessage(f)}\n${remediation(f)}`, MAX_TEXT_BYTES);
  return `::${command} ${props.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(',')}::${escapeData(data)}`;
}

/**
 * Every finding as a workflow command, most severe first: what `--format
 * github` prints and what the action writes when it has no check run, so
 * `mlgate check --format github` in any workflow annotates the pull request.
 */
export function renderWorkflowCommands(findings: readonly Finding[]): string {
  return [...findings]
    .sort(bySeverity)
    .map((f) => `${workflowCommand(f)}\n`)
    .join('');
}
