import { Minimatch } from 'minimatch';

export const MAX_GLOB_LENGTH = 512;
const MAX_BRACE_GROUPS = 8;

/**
 * Why a policy glob is unusable, or undefined when it is fine. Globs are
 * length-capped and brace-limited so a policy cannot make matching explode,
 * and stay relative so they cannot point outside the repository.
 */
export function globProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'must not be empty';
  if (glob.length > MAX_GLOB_LENGTH) return `is longer than ${MAX_GLOB_LENGTH} characters`;
  if (glob.includes('\0')) return 'must not contain NUL';
  if (glob.startsWith('/')) return 'must be relative to the repository root (no leading /)';
  if (glob.includes('\\')) return 'must use / as the separator';
  if (glob.split('/').includes('..')) return 'must not contain ..';
  if ((glob.match(/\{/g) ?? []).length > MAX_BRACE_GROUPS) return `has more than ${MAX_BRACE_GROUPS} brace groups`;
  try {
    new Minimatch(glob, { dot: true }).match('probe');
  } catch (e) {
    return `is not a valid glob (${e instanceof Error ? e.message : String(e)})`;
  }
  return undefined;
}
