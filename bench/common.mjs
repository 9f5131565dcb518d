// What the benchmarks share: the median they report, a generated corpus made
// once, and the bundling of the sources a benchmark times (a parser, a
// checker), so it measures what dist/ runs without the start-up of the CLI.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles `export … from` lines (paths relative to the repository root) into `outfile`; returns it. */
export async function bundleSources(outfile, exportLines) {
  await build({
    stdin: { contents: exportLines.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** The median of a list of timings. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `make(file)` unless the file already exists (corpora are generated once and kept). */
export async function ensureFile(file, make) {
  try {
    await stat(file);
  } catch {
    await make(file);
  }
}
