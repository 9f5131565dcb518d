import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { makeRepo } from './helpers/repo.js';
import { memoryProvider } from './helpers/policy.js';

/** One file name per parser mlgate has: every rule reads something here. */
const NAMES = [
  'requirements.txt', 'pyproject.toml', 'Pipfile', 'environment.yml', 'Dockerfile', '.github/workflows/ci.yml', 'scripts/setup.sh',
  'notebooks/a.ipynb', 'src/train.py', 'models/clf/model.safetensors', 'models/clf/model.sig', 'models/clf/README.md', 'models/legacy/model.pkl',
  'models/torch/model.pt', 'models/np/a.npy', 'models/k/m.keras', 'data/PROVENANCE.yml', 'data/train.csv', 'data/train.csv.provenance.yml',
  'data/croissant.json', 'data/big.parquet.dvc', '.github/CODEOWNERS', 'THREAT_MODEL.md',
];

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ maxLength: 512 }).map((s) => Buffer.from(s)),
  // Shapes that get past the first checks of each parser.
  fc.constantFrom('{"cells": [', '---\na: &a [*a]\n---\n', 'version: 1\nfiles:\n  x: {sha256: 1}\n', '\x80\x04\x95', 'PK\x03\x04', '\x93NUMPY', 'FROM ${X}\nRUN curl | sh', '[project]\ndependencies = [', '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}').map((s) => Buffer.from(s, 'latin1')),
);

describe('a repository of hostile files', () => {
  it('always ends in findings, never an internal error or a crash (every rule on, strict)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bytes, { minLength: NAMES.length, maxLength: NAMES.length }), async (contents) => {
        const files = Object.fromEntries(NAMES.map((n, i) => [n, contents[i]!]));
        const root = await makeRepo(files);
        const report = await evaluate({
          root,
          provider: memoryProvider({ '.github/mlgate.yml': 'version: 1\nextends: [mlgate:strict]\n' }),
          mode: 'full',
          logger: silentLogger,
          toolVersion: '1.0.0',
          now: new Date('2026-11-28T12:00:00Z'),
        });
        expect(report.findings.filter((f) => f.code?.endsWith('/internal-error'))).toEqual([]);
        expect(report.conclusion).toBe('failure');
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});
