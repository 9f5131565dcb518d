import { parseNotebook } from '../notebook.js';

/** Python source plus where each of its lines sits in the file. */
export interface PythonUnit {
  source: string;
  /** 1-based file line of each 0-based source row; absent when rows map to lines one to one. */
  fileLines?: number[];
}

/** Cell magics whose body is still Python run by the kernel; any other (`%%bash`, `%%html`, …) hides the cell. */
const PYTHON_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3', 'pypy']);

/** Line magics that run the Python statement after them (`%time torch.load(p)`). */
const PREFIX_MAGIC = /^(\s*%{1,2}(?:time|timeit|prun|debug)\b(?:\s+-[A-Za-z]\S*(?:\s+\d+)?)*)/;
/** Shell escapes and line magics, also as the right-hand side of an assignment (`files = !ls`), and `obj?` help. */
const IPYTHON_LINE = /^\s*(?:[!%]|[\w.,\s]+=\s*[!%]|\?{1,2}[\w.]|[\w.]+\?{1,2}\s*$)/;

const blank = (s: string): string => s.replace(/[^\s]/g, ' ');

/**
 * The code cells of a Python notebook as parseable Python: IPython syntax is
 * blanked to spaces (never removed) so every row and column keeps its place.
 * Notebooks of another kernel language yield nothing.
 */
export function notebookUnits(text: string): PythonUnit[] {
  const nb = parseNotebook(text);
  if (!nb.language.startsWith('python') && nb.language !== 'ipython') return [];
  const units: PythonUnit[] = [];
  for (const cell of nb.cells) {
    if (cell.cellType !== 'code') continue;
    const source = pythonOfCell(cell.source);
    if (source !== null) units.push({ source, fileLines: cell.fileLines });
  }
  return units;
}

/** The cell with IPython-only lines blanked, or null for a cell another interpreter runs. */
export function pythonOfCell(source: string): string | null {
  const lines = source.split('\n');
  const cellMagic = /^\s*%%(\w+)/.exec(lines[0] ?? '');
  if (cellMagic) {
    if (!PYTHON_CELL_MAGICS.has(cellMagic[1]!)) return null;
    lines[0] = blank(lines[0]!);
  }
  let continued = false;
  for (let i = cellMagic ? 1 : 0; i < lines.length; i++) {
    const line = lines[i]!;
    const prefix = continued ? null : PREFIX_MAGIC.exec(line);
    if (prefix) {
      lines[i] = blank(prefix[1]!) + line.slice(prefix[1]!.length);
    } else if (continued || IPYTHON_LINE.test(line)) {
      lines[i] = blank(line);
      // A shell line ending in a backslash continues on the next line.
      continued = /\\\s*$/.test(line);
      continue;
    }
    continued = false;
  }
  return lines.join('\n');
}
