import { createHash } from 'node:crypto';

/**
 * Stable identity of a finding across runs (deduplication, SARIF
 * partialFingerprints): rule, code, path and the message with volatile parts
 * (numbers, whitespace, case) normalised away.
 */
export function fingerprint(rule: string, code: string | undefined, path: string | undefined, message: string): string {
  const normalised = message
    .toLowerCase()
    // Numbers (lines, offsets, ages in days, counts) change between runs without the problem changing.
    .replace(/\d+/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
  return createHash('sha256').update([rule, code ?? '', path ?? '', normalised].join('\0')).digest('hex').slice(0, 32);
}
