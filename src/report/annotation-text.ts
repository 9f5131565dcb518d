import { LEVEL_RANK, type Finding } from '../core/types.js';

/** GitHub's limits on an annotation (Checks API; the runner applies the same to workflow commands). */
export const MAX_TITLE_CHARS = 255;
/** 64 KB for `message` and `raw_details`, less room for the truncation mark. */
export const MAX_TEXT_BYTES = 60 * 1024;

/**
 * Most severe first, then by file and line, so whatever a viewer caps (the
 * runner shows ten annotations per level and step), the errors survive.
 * Compared by code unit, not locale, so every machine prints the same order.
 */
export function bySeverity(a: Finding, b: Finding): number {
  return weight(b) - weight(a) || compare(a.path ?? '', b.path ?? '') || (a.line ?? 0) - (b.line ?? 0) || compare(a.rule, b.rule) || compare(a.message, b.message);
}

function weight(f: Finding): number {
  // A waived finding no longer gates: it ranks below every live one.
  return f.waived ? 0 : LEVEL_RANK[f.level];
}

const compare = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1);

/** The sub-code a reviewer can look up (`mlgate rules model-signing/unsigned`); waived findings say so. */
export function annotationTitle(f: Finding): string {
  return truncateChars(`${f.code ?? f.rule}${f.waived ? ' (waived)' : ''}`, MAX_TITLE_CHARS);
}

/** What is wrong (the finding's message ends with the fix), and for a waived finding who owns the exception until when. */
export function annotationMessage(f: Finding): string {
  const parts = [f.message];
  if (f.waived) parts.push(`Waived until ${f.waived.expires} (owner ${f.waived.owner}): ${f.waived.reason}`);
  return truncateBytes(parts.join('\n'), MAX_TEXT_BYTES);
}

/** Where the fix is documented, and the ATLAS/OWASP entries behind the rule: a check run's `raw_details`. */
export function remediation(f: Finding): string {
  const lines = [`How to fix: ${f.help}`];
  if (f.references.length > 0) lines.push(`References: ${f.references.map((r) => `${r.id} ${r.url}`).join(', ')}`);
  return truncateBytes(lines.join('\n'), MAX_TEXT_BYTES);
}

/** A 1-based position, or undefined for anything GitHub would refuse (0, negative, fractional). */
export function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

export function truncateChars(s: string, max: number): string {
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
