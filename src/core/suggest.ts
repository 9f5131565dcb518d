import { distance } from 'fastest-levenshtein';

/**
 * "Did you mean" for every name a user types: flags, policy keys, rule ids,
 * levels, built-in sets, sub-codes. A candidate is offered when it is close
 * for the input's length (a third of it, at least one edit) or when one is a
 * prefix of the other (`warn` → `warning`); the closest wins, ties by order.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const budget = Math.max(1, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const hay = c.toLowerCase();
    if (hay === needle) return c;
    const d = distance(needle, hay);
    const prefix = needle.length >= 3 && (hay.startsWith(needle) || needle.startsWith(hay));
    const score = prefix ? Math.min(d, 0.5) : d;
    if ((d <= budget || prefix) && score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or '' when nothing is close: appended to an error message. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const c = closest(input, candidates);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}
