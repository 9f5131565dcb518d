// Benchmarks that time a part of mlgate (a parser, a checker) load it from a
// bundle of the TypeScript sources, so they measure what dist/ runs without
// the start-up of the whole CLI.
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
