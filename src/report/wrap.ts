/**
 * Word-wraps `text` to `width` columns, every line after `indent`. A word
 * longer than a line (a URL, a long path) gets a line of its own, unbroken,
 * so terminals can still open it.
 */
export function wrap(text: string, width: number, indent: string): string[] {
  const room = Math.max(20, width - [...indent].length);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line === '') line = word;
      else if ([...line].length + 1 + [...word].length <= room) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines.map((l) => (l === '' ? '' : `${indent}${l}`));
}
