/**
 * Escapes repository-derived text (file names, messages) for Markdown so it
 * cannot inject links, images, HTML or table breaks into a summary.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** A one-line summary of counts: `2 errors, 5 warnings`. */
export function countsTitle(counts: { error: number; warning: number; info: number; waived: number }): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = [plural(counts.error, 'error'), plural(counts.warning, 'warning')];
  if (counts.info > 0) parts.push(`${counts.info} info`);
  if (counts.waived > 0) parts.push(`${counts.waived} waived`);
  return parts.join(', ');
}
