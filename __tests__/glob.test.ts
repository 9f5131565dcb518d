import fc from 'fast-check';
import { Minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../src/inventory/inventory.js';

// Inventory paths are normalised: no empty, "." or ".." segments.
const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
const repoPath = fc.array(fc.oneof(segment, fc.constantFrom('data', '.git', 'x.py', '.py', 'a.csv', 'b.tsv', 'models', 'm.PY')), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
const GLOBS = ['**/*.py', '**/*.{csv,tsv}', '**/*.ipynb', 'data/**', 'datasets/**', 'models/clf/**', 'THREAT_MODEL.md', '.github/mlgate.yml', 'docs/threat-model*.md', 'models/*', '**/*.{csv,tsv,parquet}.dvc'];

describe('glob matching', () => {
  it.each(GLOBS)('%s agrees with minimatch (dot: true) on arbitrary paths', (glob) => {
    const reference = new Minimatch(glob, { dot: true });
    const ours = compileGlob(glob);
    fc.assert(
      fc.property(repoPath, (p) => {
        expect(ours.match(p)).toBe(reference.match(p));
      }),
      { numRuns: 3000 },
    );
  });
});
