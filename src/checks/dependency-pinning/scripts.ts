import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FileProblem } from '../../core/errors.js';
import type { FileEntry } from '../../inventory/types.js';
import { NotebookError, parseNotebook } from '../../formats/notebook.js';
import { analyseShell, newShellState, unverifiedDownloads, type ShellIssue } from '../../formats/shell.js';
import { dirOf, MAX_NOTEBOOK_BYTES, MAX_TEXT_BYTES, type PinningContext } from './context.js';
import type { RequirementsLoader } from './pip.js';
import { reportShellIssues } from './shell-issues.js';

export const SCRIPT_GLOBS = ['**/*.sh', '**/*.bash'];

const SHEBANG = /^#![ \t]*(?:\/usr\/bin\/env[ \t]+(?:-S[ \t]+)?)?(?:\S*\/)?(?:sh|bash|dash|zsh|ksh|ash)(?:[ \t]|\r?$)/;

/**
 * An extensionless file (`scripts/install`) is a shell script when its first
 * line says so. Only its first bytes are read, and only for files small enough
 * to be scripts.
 */
export async function hasShellShebang(d: PinningContext, file: FileEntry): Promise<boolean> {
  if (file.size < 4 || file.size > MAX_TEXT_BYTES) return false;
  let handle;
  try {
    handle = await open(d.rule.inventory.abs(file.path), constants.O_RDONLY | constants.O_NOFOLLOW);
    const head = Buffer.alloc(128);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const first = head.subarray(0, bytesRead).toString('latin1').split('\n')[0]!;
    return SHEBANG.test(first);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
export const NOTEBOOK_GLOBS = ['**/*.ipynb'];

export async function checkScript(d: PinningContext, loader: RequirementsLoader, path: string): Promise<void> {
  await d.guard(path, async () => {
    const state = newShellState();
    const issues = analyseShell(await d.read(path), { state, signal: d.rule.signal });
    await reportShellIssues(d, loader, path, [...issues, ...unverifiedDownloads(state)], [dirOf(path), '']);
  });
}

/** IPython line magics that run a package manager: `%pip install x` is `pip install x`. */
const MAGICS = ['%pip ', '%conda ', '%mamba ', '%micromamba ', '%uv ', '%npm ', '%system '];
const CELL_SHELLS = ['%%bash', '%%sh', '%%script bash', '%%script sh', '%%system'];

interface Snippet {
  text: string;
  lines: number[];
}

/** The shell text of a code cell: `!cmd` and `%pip` lines, or the whole cell under `%%bash`. */
function shellSnippets(source: string, fileLines: number[]): Snippet[] {
  const lines = source.split('\n');
  const at = (k: number): number => fileLines[k] ?? fileLines[fileLines.length - 1] ?? 1;
  const first = (lines[0] ?? '').trim();
  if (CELL_SHELLS.some((m) => first === m || first.startsWith(`${m} `))) {
    return [{ text: lines.slice(1).join('\n'), lines: lines.slice(1).map((_, k) => at(k + 1)) }];
  }
  const out: Snippet[] = [];
  for (let k = 0; k < lines.length; k++) {
    const t = lines[k]!.trimStart();
    let cmd: string | undefined;
    if (t.startsWith('!')) cmd = t.slice(t.startsWith('!!') ? 2 : 1);
    else {
      const magic = MAGICS.find((m) => t.startsWith(m));
      if (magic) cmd = magic === '%system ' ? t.slice(magic.length) : t.slice(1);
    }
    if (cmd === undefined) continue;
    const snippet: Snippet = { text: cmd.replaceAll('{sys.executable}', 'python'), lines: [at(k)] };
    while (snippet.text.endsWith('\\') && k + 1 < lines.length) {
      snippet.text += `\n${lines[++k]}`;
      snippet.lines.push(at(k));
    }
    out.push(snippet);
  }
  return out;
}

/** Notebook `!pip install` / `%pip install` / `%%bash` cells, reported on the .ipynb line. */
export async function checkNotebook(d: PinningContext, loader: RequirementsLoader, path: string): Promise<void> {
  await d.guard(path, async () => {
    let nb;
    try {
      nb = parseNotebook(await d.read(path, MAX_NOTEBOOK_BYTES));
    } catch (e) {
      if (e instanceof NotebookError) throw new FileProblem(path, `${path} is not a valid notebook (${e.message}); fix it so its installs can be checked`, 'malformed', e.line);
      throw e;
    }
    const state = newShellState();
    for (const cell of nb.cells) {
      if (cell.cellType !== 'code') continue;
      const issues: ShellIssue[] = [];
      for (const s of shellSnippets(cell.source, cell.fileLines)) {
        issues.push(...analyseShell(s.text, { state, signal: d.rule.signal, lineOf: (l) => s.lines[l] ?? s.lines[s.lines.length - 1]! }));
      }
      await reportShellIssues(d, loader, path, issues, [dirOf(path), '']);
    }
    await reportShellIssues(d, loader, path, unverifiedDownloads(state), [dirOf(path), '']);
  });
}
