import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Tree } from 'web-tree-sitter';

/**
 * Characters of Python source parsed at all; larger inputs are refused before
 * parsing. The syntax tree lives in WASM memory, which never shrinks: a 2 MiB
 * file costs about 70 MB of RSS for the rest of the run (5 MB cost 156 MB).
 */
export const MAX_PYTHON_SOURCE_CHARS = 2 * 1024 * 1024;

/** The parser could not produce a tree (input too large). */
export class PythonParseError extends Error {
  override name = 'PythonParseError';
}

/**
 * A WASM file: beside the bundle (`dist/<name>`) when mlgate runs as the action
 * or the published CLI, which have no node_modules; from the package otherwise.
 */
function locateWasm(name: string, specifier: string): string {
  const bundled = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (existsSync(bundled)) return bundled;
  return createRequire(import.meta.url).resolve(specifier);
}

let loading: Promise<Parser> | undefined;

/** One parser for the process: WASM compilation costs tens of milliseconds, parsing is synchronous. */
function pythonParser(): Promise<Parser> {
  loading ??= (async () => {
    const runtime = locateWasm('web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtime });
    const grammar = await readFile(locateWasm('tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(await Language.load(new Uint8Array(grammar)));
    return parser;
  })();
  // A failed load is retried by the next caller rather than remembered forever.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/**
 * Parses Python source and hands the tree to `use`, freeing the tree's WASM
 * memory afterwards whatever `use` does. Parsing is synchronous: the size cap
 * bounds it (about half a second for 2 MiB), and callers yield between sources.
 */
export async function withPythonTree<T>(source: string, use: (tree: Tree) => T): Promise<T> {
  if (source.length > MAX_PYTHON_SOURCE_CHARS) {
    throw new PythonParseError(`Python source of ${source.length} characters exceeds the ${MAX_PYTHON_SOURCE_CHARS} character limit`);
  }
  const parser = await pythonParser();
  const tree = parser.parse(source);
  if (!tree) {
    parser.reset();
    throw new PythonParseError('the Python parser gave up on this source');
  }
  try {
    return use(tree);
  } finally {
    tree.delete();
  }
}
