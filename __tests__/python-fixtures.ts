/** A notebook as Jupyter writes it (one JSON string per source line, indent 1). */
export function notebook(cells: { type?: string; source: string }[], language = 'python'): string {
  return `${JSON.stringify(
    {
      cells: cells.map((c) => ({
        cell_type: c.type ?? 'code',
        metadata: {},
        source: c.source.split(/(?<=\n)/),
        ...(c.type && c.type !== 'code' ? {} : { outputs: [], execution_count: null }),
      })),
      metadata: { kernelspec: { language, name: language, display_name: language } },
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  )}\n`;
}

/** 1-based line of the only line of `text` containing `needle`. */
export function lineContaining(text: string, needle: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`expected one line containing ${needle}, found ${hits.length}`);
  return hits[0]!;
}
