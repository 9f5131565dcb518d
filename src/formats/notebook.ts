import { parseTree, findNodeAtLocation, type Node, type ParseError } from 'jsonc-parser';
import { LineIndex } from './text-position.js';

export interface NotebookCell {
  /** 0-based index among all cells. */
  index: number;
  cellType: string;
  /** The cell's source joined as the kernel sees it. */
  source: string;
  /** For each 0-based line of `source`, the 1-based line in the .ipynb file. */
  fileLines: number[];
}

export interface Notebook {
  /** Kernel language from metadata (`python` when absent). */
  language: string;
  cells: NotebookCell[];
}

/** A notebook that is not valid nbformat JSON; the caller reports it on the file. */
export class NotebookError extends Error {
  override name = 'NotebookError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Reads an nbformat 4 notebook keeping, for every line of every cell, the line
 * of the .ipynb file it sits on, so findings land where a reviewer sees them.
 */
export function parseNotebook(text: string): Notebook {
  const errors: ParseError[] = [];
  let root: Node | undefined;
  try {
    root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  } catch (e) {
    // Pathological nesting can exhaust the parser's stack.
    throw new NotebookError(`notebook is not parseable JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const lines = new LineIndex(text);
  if (errors.length > 0 || !root) {
    const at = errors[0] ? lines.position(errors[0].offset).line : undefined;
    throw new NotebookError('notebook is not valid JSON', at);
  }
  if (root.type !== 'object') throw new NotebookError('notebook JSON is not an object', 1);
  const cellsNode = findNodeAtLocation(root, ['cells']);
  if (!cellsNode || cellsNode.type !== 'array') throw new NotebookError('notebook has no "cells" array', 1);
  const langNode =
    findNodeAtLocation(root, ['metadata', 'kernelspec', 'language']) ?? findNodeAtLocation(root, ['metadata', 'language_info', 'name']);
  const language = typeof langNode?.value === 'string' ? langNode.value.toLowerCase() : 'python';

  const cells: NotebookCell[] = [];
  (cellsNode.children ?? []).forEach((cell, index) => {
    if (cell.type !== 'object') return;
    const typeNode = findNodeAtLocation(cell, ['cell_type']);
    const cellType = typeof typeNode?.value === 'string' ? typeNode.value : 'unknown';
    const src = findNodeAtLocation(cell, ['source']);
    const parts: { text: string; line: number }[] = [];
    if (src?.type === 'string') parts.push({ text: String(src.value), line: lines.position(src.offset).line });
    else if (src?.type === 'array')
      for (const item of src.children ?? [])
        if (item.type === 'string') parts.push({ text: String(item.value), line: lines.position(item.offset).line });
    let source = '';
    const fileLines: number[] = [];
    for (const part of parts) {
      // A list element normally holds one line ending in "\n"; a single string holds them all on one JSON line.
      const pieces = part.text.split('\n');
      const startsNewLine = source === '' || source.endsWith('\n');
      pieces.forEach((piece, i) => {
        if (i === 0 && !startsNewLine) return;
        if (i === pieces.length - 1 && piece === '') return;
        fileLines.push(part.line);
      });
      source += part.text;
    }
    if (fileLines.length === 0) fileLines.push(lines.position(cell.offset).line);
    cells.push({ index, cellType, source, fileLines });
  });
  return { language, cells };
}
