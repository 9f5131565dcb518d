/**
 * Python source with comments and plain string literals blanked, for a cheap
 * "does the code mention this name" test before parsing. f-strings are kept
 * whole (their `{…}` parts are code), and an unterminated string ends at its
 * line, so what is blanked is never code: a wrong guess only costs a parse.
 */
export function codeWithoutStrings(source: string): string {
  const parts: string[] = [];
  const special = /[#'"]/g;
  let from = 0;
  for (let m = special.exec(source); m !== null; m = special.exec(source)) {
    const at = m.index;
    if (m[0] === '#') {
      const eol = source.indexOf('\n', at);
      parts.push(source.slice(from, at));
      from = eol === -1 ? source.length : eol;
      special.lastIndex = from;
      continue;
    }
    const end = stringEnd(source, at);
    // String prefixes (r, b, u, f and pairs) sit right before the quote.
    const prefix = /[A-Za-z]{1,2}$/.exec(source.slice(Math.max(0, at - 3), at));
    const before = prefix ? source[at - prefix[0].length - 1] : undefined;
    const isPrefix = prefix !== null && /^[rRbBuUfF]{1,2}$/.test(prefix[0]) && (before === undefined || !/\w/.test(before));
    if (!(isPrefix && /[fF]/.test(prefix[0]))) {
      parts.push(source.slice(from, at), ' ');
      from = end;
    }
    special.lastIndex = end;
  }
  parts.push(source.slice(from));
  return parts.join('');
}

/** Index just past the string literal whose opening quote is at `at`. */
function stringEnd(source: string, at: number): number {
  const q = source[at]!;
  if (source.startsWith(q.repeat(3), at)) {
    const close = q.repeat(3);
    for (let i = at + 3; i < source.length; i++) {
      if (source[i] === '\\') i++;
      else if (source.startsWith(close, i)) return i + 3;
    }
    return source.length;
  }
  for (let i = at + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === q) return i + 1;
    else if (c === '\n') return i;
  }
  return source.length;
}
