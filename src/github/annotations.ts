import { LEVEL_RANK, type Finding } from '../core/types.js';

/** The Checks API takes at most this many annotations per request. */
export const ANNOTATIONS_PER_REQUEST = 50;
const MAX_MESSAGE_BYTES = 60 * 1024;
const MAX_TITLE_CHARS = 255;

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  annotation_level: 'failure' | 'warning' | 'notice';
  message: string;
  title: string;
}

/** Most severe first, then by file and line, so whatever a viewer caps, the errors survive. */
export function bySeverity(a: Finding, b: Finding): number {
  return (
    weight(b) - weight(a) ||
    (a.path ?? '').localeCompare(b.path ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    a.rule.localeCompare(b.rule) ||
    a.message.localeCompare(b.message)
  );
}

function weight(f: Finding): number {
  // A waived finding no longer gates: it ranks below every live one.
  return f.waived ? 0 : LEVEL_RANK[f.level];
}

export function findingTitle(f: Finding): string {
  const title = `mlgate ${f.code ?? f.rule}${f.waived ? ' (waived)' : ''}`;
  return truncateChars(title, MAX_TITLE_CHARS);
}

/** The message with what to do next: the remediation page, and for a waived finding who owns the exception. */
export function findingMessage(f: Finding): string {
  const parts = [f.message];
  if (f.waived) parts.push(`Waived until ${f.waived.expires} (owner ${f.waived.owner}): ${f.waived.reason}`);
  if (f.help) parts.push(`How to fix: ${f.help}`);
  return parts.join('\n');
}

/** Findings on a file, most severe first: the ones that become annotations (the rest stay in the summary). */
export function annotatable(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.path).sort(bySeverity);
}

/** One annotation per finding of `annotatable`, in the same order (line 1 when the finding has no line). */
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
        annotation_level: f.waived ? 'notice' : f.level === 'error' ? 'failure' : f.level === 'warning' ? 'warning' : 'notice',
        message: truncateBytes(findingMessage(f), MAX_MESSAGE_BYTES),
        title: findingTitle(f),
      };
  });
}

export function batches<T>(items: readonly T[], size = ANNOTATIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

function truncateChars(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Cuts on a character boundary so that the UTF-8 encoding fits in `max` bytes. */
export function truncateBytes(s: string, max: number, note = '…'): string {
  if (Buffer.byteLength(s) <= max) return s;
  const budget = max - Buffer.byteLength(note);
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    bytes += n;
    out += ch;
  }
  return out + note;
}
