/** Where `key` is, or would go, in paths sorted by UTF-16 code units (as the inventory sorts them): a binary search. */
export function firstAtOrAfter(paths: readonly string[], key: string): number {
  let lo = 0;
  let hi = paths.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (paths[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
