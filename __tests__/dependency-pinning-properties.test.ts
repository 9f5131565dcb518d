import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { readCondaEnvironment } from '../src/formats/conda.js';
import { readDockerfile } from '../src/formats/dockerfile.js';
import { ManifestError, readPipfile, readPyproject, tomlLockNames } from '../src/formats/pyproject.js';
import { readWorkflow } from '../src/formats/workflow.js';
import { YamlError } from '../src/formats/yaml.js';
import { runRuleOn } from './helpers/repo.js';

/** Text that looks enough like each format to reach past the first syntax check. */
const soup = (tokens: string[]) => fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 })), { maxLength: 60 }).map((p) => p.join(''));

const expectOnly = (fn: () => unknown, ...allowed: (new (...a: never[]) => Error)[]) => {
  try {
    fn();
  } catch (e) {
    if (!allowed.some((k) => e instanceof k)) throw e;
  }
};

describe('format readers throw only their own errors', () => {
  it('Dockerfile', () => {
    fc.assert(fc.property(soup(['FROM ', 'ARG ', 'RUN ', ' AS ', '${', '}', '$', '@sha256:', '\\\n', '\n', '<<EOF', 'EOF', '["', '"]', ' ', '--mount=x']), (t) => void readDockerfile(t)), { numRuns: 300 });
  });
  it('workflow', () => {
    fc.assert(fc.property(soup(['jobs:', '\n  ', 'steps:', '- ', 'uses: ', 'run: |', 'run: >', '\n      ', 'pip install x', '@v1', ': ', '"', '&a', '*a', 'container:', 'runs:']), (t) => expectOnly(() => readWorkflow(t), YamlError)), { numRuns: 300 });
  });
  it('conda environment', () => {
    fc.assert(fc.property(soup(['dependencies:', '\n  - ', 'pip:', '\n    - ', 'numpy=1', '-r x', ': ', '[', ']']), (t) => expectOnly(() => readCondaEnvironment(t), YamlError)), { numRuns: 300 });
  });
  it('pyproject, Pipfile and lock names', () => {
    const toml = soup(['[project]\n', 'dependencies = [', '"torch>=2"', ',', ']\n', '[tool.poetry.dependencies]\n', 'x = "1"\n', '[packages]\n', '[[package]]\n', 'name = "a"\n', '"', '=']);
    fc.assert(
      fc.property(toml, (t) => {
        expectOnly(() => readPyproject(t), ManifestError);
        expectOnly(() => readPipfile(t), ManifestError);
        tomlLockNames(t);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the rule never crashes on arbitrary repository files', () => {
  const KNOWN = new Set(['unpinned-requirement', 'missing-hash', 'unresolved-include', 'missing-lockfile', 'stale-lockfile', 'unpinned-image', 'unpinned-action', 'unpinned-install', 'download-and-run', 'malformed']);
  it('reports only its own codes (an "unreadable" finding would be an unexpected exception)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), async (text, bytes) => {
        const findings = await runRuleOn(dependencyPinning, {
          'requirements.txt': text,
          'constraints.txt': bytes,
          Dockerfile: text,
          '.github/workflows/ci.yml': text,
          'environment.yml': text,
          'pyproject.toml': text,
          Pipfile: bytes,
          'run.sh': text,
          'nb.ipynb': text,
        });
        for (const f of findings) expect(KNOWN, `${f.code}: ${f.message}`).toContain(f.code);
      }),
      { numRuns: 40 },
    );
  });
});
