import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Builds dist/ once before any test file runs: the CLI and action tests run the
 * bundles as users do, and must never judge a bundle older than the sources.
 * (CI checks separately that the committed dist/ equals a fresh build.)
 */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: path.resolve(__dirname, '..'), stdio: 'inherit' });
}
