/**
 * Longest-prefix lookups on dotted paths. A GLOBAL line may be 64 KiB of
 * `a.a.a…`, so a lookup only tries the prefixes a table can hold (its deepest
 * key's segment count): linear in the path, not quadratic.
 */
export interface PrefixTable<T> {
  map: ReadonlyMap<string, T>;
  /** Segments of the deepest key. */
  depth: number;
}

export function prefixTable<T>(map: ReadonlyMap<string, T>): PrefixTable<T> {
  let depth = 1;
  for (const k of map.keys()) depth = Math.max(depth, k.split('.').length);
  return { map, depth };
}

/** The value and length of the longest key that is `path` or a prefix of it ending at a dot. */
export function longestPrefix<T>(table: PrefixTable<T>, path: string): { value: T; length: number } | undefined {
  let end = -1;
  for (let n = 0; n < table.depth; n++) {
    end = path.indexOf('.', end + 1);
    if (end < 0) break;
  }
  for (let i = end < 0 ? path.length : end; i > 0; i = path.lastIndexOf('.', i - 1)) {
    const value = table.map.get(path.slice(0, i));
    if (value !== undefined) return { value, length: i };
  }
  return undefined;
}
