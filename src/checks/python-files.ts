import type { RuleContext } from './rule.js';
import { FileProblem } from '../core/errors.js';
import type { Inventory } from '../inventory/types.js';
import { NotebookError } from '../formats/notebook.js';
import { analysePython, MAX_PYTHON_SOURCE_CHARS, PythonParseError, type PythonFile } from '../formats/python/index.js';

export const DEFAULT_PYTHON_GLOBS = ['**/*.py', '**/*.ipynb'];

/** The `files` parameter every Python-reading rule takes. */
export const PYTHON_FILES_PARAM = {
  type: 'array',
  items: { type: 'string', format: 'glob' },
  default: DEFAULT_PYTHON_GLOBS,
  description: 'Globs of the Python files and notebooks to check (default: **/*.py and **/*.ipynb).',
};

/** Notebooks carry outputs (images, tables) besides code, so they may be larger than the code limit. */
const MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024;

/** Calls kept across rules per inventory (roughly 600 bytes each), so memory stays flat on a huge repository. */
const MAX_CACHED_CALLS = 50_000;

/**
 * Analyses already done for an inventory, so rules that share Python files
 * (unsafe-deserialization, model-hub-pinning) read and parse each file once.
 * Only successes are kept: a failure under one rule's budget is retried under
 * the next rule's own.
 */
const analysed = new WeakMap<Inventory, { files: Map<string, PythonFile>; calls: number }>();

async function analyseEntry(ctx: RuleContext<unknown>, path: string): Promise<PythonFile> {
  let done = analysed.get(ctx.inventory);
  if (!done) analysed.set(ctx.inventory, (done = { files: new Map(), calls: 0 }));
  const cached = done.files.get(path);
  if (cached) return cached;
  const notebook = path.toLowerCase().endsWith('.ipynb');
  const cap = Math.min(ctx.maxFileBytes, notebook ? MAX_NOTEBOOK_BYTES : MAX_PYTHON_SOURCE_CHARS);
  const text = await ctx.inventory.readText(path, cap);
  try {
    const file = await analysePython(path, text, ctx.signal);
    if (done.calls + file.calls.length <= MAX_CACHED_CALLS) {
      done.files.set(path, file);
      done.calls += file.calls.length;
    }
    return file;
  } catch (e) {
    if (e instanceof NotebookError) throw new FileProblem(path, `${path} is not a readable notebook: ${e.message}`, 'unparsable', e.line);
    if (e instanceof PythonParseError) throw new FileProblem(path, `${path} was not analysed: ${e.message}`, 'budget-exceeded');
    throw e;
  }
}

/**
 * Runs `visit` on every Python file and notebook matching `globs` (only the
 * changed ones in changed mode), each inside `ctx.guard` so a hostile file
 * becomes a finding on itself. A file too broken to analyse is reported as
 * `unparsable` (capped at warning: the parser may lag new Python syntax).
 */
export async function forEachPythonFile(
  ctx: RuleContext<unknown>,
  globs: readonly string[],
  visit: (path: string, file: PythonFile) => void,
): Promise<void> {
  for (const entry of ctx.inventory.match(globs)) {
    if (ctx.changed && !ctx.changed.changed.has(entry.path)) continue;
    ctx.signal.throwIfAborted();
    await ctx.guard(entry.path, async () => {
      const file = await analyseEntry(ctx, entry.path);
      if (file.unparsable) {
        ctx.report({
          code: 'unparsable',
          path: entry.path,
          line: file.unparsable.line,
          maxLevel: 'warning',
          message: `${Math.round(file.unparsable.errorShare * 100)}% of ${entry.path} is not valid Python to the parser (first problem at line ${file.unparsable.line}), so calls in it could not be checked; fix the syntax or exclude the file with an exception`,
        });
      }
      visit(entry.path, file);
    });
  }
}
