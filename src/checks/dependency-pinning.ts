import { isCondaLockName } from '../formats/conda.js';
import { matchesAny } from '../inventory/inventory.js';
import { atlas, owaspLlm, type DependencyIndex, type Invalidation, type Rule } from './rule.js';
import { checkWorkflow, WORKFLOW_GLOBS } from './dependency-pinning/actions.js';
import { checkCondaEnvironment, CONDA_GLOBS } from './dependency-pinning/conda.js';
import { dirOf, ECOSYSTEMS, PinningContext, type DependencyPinningParams } from './dependency-pinning/context.js';
import { checkDockerfile, DOCKERFILE_GLOBS, isDockerfileName } from './dependency-pinning/docker.js';
import { checkPipfile, checkPyproject } from './dependency-pinning/manifests.js';
import { checkRequirementFiles, REQUIREMENTS_GLOBS, RequirementsLoader } from './dependency-pinning/pip.js';
import { checkNotebook, checkScript, hasShellShebang, NOTEBOOK_GLOBS, SCRIPT_GLOBS } from './dependency-pinning/scripts.js';

/** A cheap test that skips most files before any glob runs (source code, data, weights). */
function mayMatter(path: string, name: string): boolean {
  const lower = name.toLowerCase();
  return (
    lower.endsWith('.txt') || lower.endsWith('.yml') || lower.endsWith('.yaml') || lower.endsWith('.sh') || lower.endsWith('.bash') ||
    lower.endsWith('.ipynb') || lower.endsWith('.toml') || name === 'Pipfile' || lower.includes('dockerfile') || lower.includes('containerfile') ||
    path.startsWith('.github/') || !name.includes('.')
  );
}

/** A requirements file's directory and every directory above it, where the files that include or install it by a relative path live. */
function ancestorDirs(path: string): string[] {
  const out: string[] = [];
  for (let d = dirOf(path); ; d = dirOf(d)) {
    out.push(d);
    if (d === '') return out;
  }
}

/**
 * A changed requirements file invalidates what installs it: every workflow and
 * Dockerfile (they name files from the repository root or a build context), and
 * the scripts, notebooks and conda environments of its own directory or one
 * above. The requirements files of those directories are read, not judged: one
 * may include it and pin it through a constraints file. Nothing is read to find
 * them; a file that installs it from a sibling directory is not found (its own
 * change still checks it).
 */
function requirementDependents(path: string, index: DependencyIndex): Invalidation | undefined {
  if (!matchesAny(path, REQUIREMENTS_GLOBS)) return undefined;
  const near = ancestorDirs(path).flatMap((d) => index.filesIn(d));
  return {
    dependents: [...index.matching([...WORKFLOW_GLOBS, ...DOCKERFILE_GLOBS], (p) => mayMatter(p, p.slice(p.lastIndexOf('/') + 1))), ...near.filter((p) => matchesAny(p, [...SCRIPT_GLOBS, ...NOTEBOOK_GLOBS, ...CONDA_GLOBS]))],
    inputs: near.filter((p) => matchesAny(p, REQUIREMENTS_GLOBS)),
  };
}

const SHA = 'b4ffde65f46336ab88eb53be808477a3936a8b4a';
const DIGEST = 'sha256:' + 'a'.repeat(64);

export const dependencyPinning: Rule<DependencyPinningParams> = {
  id: 'dependency-pinning',
  title: 'Dependencies are pinned',
  summary: 'Python requirements, lock files, container images, GitHub Actions and install commands pin exact versions, commits or digests.',
  defaultLevel: 'warning',
  references: [
    { id: 'OpenSSF-Scorecard-Pinned-Dependencies', url: 'https://github.com/ossf/scorecard/blob/main/docs/checks.md#pinned-dependencies' },
    atlas('AML.T0010.001'),
    owaspLlm('LLM03', 'llm032025-supply-chain'),
  ],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ecosystems: {
        description: 'Which kinds of dependency to check (default: all of them).',
        type: 'array',
        items: { enum: [...ECOSYSTEMS] },
        uniqueItems: true,
        default: [...ECOSYSTEMS],
      },
      'require-hashes': {
        description: 'pip: also require a --hash on every requirement line (hash-checking mode).',
        type: 'boolean',
        default: false,
      },
    },
  },
  tighten: { ecosystems: 'superset', 'require-hashes': 'true-stays' },
  examples: {
    pass: {
      description: 'exact pins, a lock file, digests, commit-pinned actions and lock-based installs',
      files: {
        'requirements.txt': 'torch==2.3.1\nnumpy==1.26.4 ; python_version >= "3.10"\n',
        'pyproject.toml': '[project]\nname = "clf"\ndependencies = ["torch>=2"]\n',
        'uv.lock': 'version = 1\n\n[[package]]\nname = "torch"\nversion = "2.3.1"\n',
        Dockerfile: `ARG BASE=python:3.11-slim@${DIGEST}\nFROM \${BASE} AS build\nRUN pip install --require-hashes -r requirements.txt\nFROM scratch\nCOPY --from=build /app /app\n`,
        '.github/workflows/ci.yml': `on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@${SHA} # v4\n      - uses: ./.github/actions/setup\n      - run: |\n          npm ci\n          npx eslint .\n`,
      },
      expect: [],
    },
    fail: {
      description: 'a range, a tag-pinned image and action, an unpinned install and curl | sh',
      files: {
        'requirements.txt': 'torch>=2\n',
        Dockerfile: 'FROM python:3.11\nRUN curl -fsSL https://example.com/install.sh | sh\n',
        '.github/workflows/ci.yml': 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install transformers\n',
      },
      expect: ['unpinned-requirement', 'unpinned-image', 'download-and-run', 'unpinned-action', 'unpinned-install'],
    },
  },
  invalidates: requirementDependents,
  async run(ctx) {
    const d = new PinningContext(ctx);
    const loader = new RequirementsLoader(d);
    const on = (e: (typeof ECOSYSTEMS)[number]): boolean => d.ecosystems.has(e);
    const requirementFiles: string[] = [];
    for (const file of ctx.inventory.files) {
      ctx.signal.throwIfAborted();
      if (file.lfs) continue;
      const path = file.path;
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (!mayMatter(path, name)) continue;
      if (on('pip') && matchesAny(path, REQUIREMENTS_GLOBS)) requirementFiles.push(path);
      if (on('pyproject') && name === 'pyproject.toml') await checkPyproject(d, path);
      if (on('pyproject') && name === 'Pipfile') await checkPipfile(d, path);
      if (on('conda') && matchesAny(path, CONDA_GLOBS) && !isCondaLockName(name)) await checkCondaEnvironment(d, loader, path);
      if (!d.inScope(path)) continue;
      const dockerfile = isDockerfileName(name);
      if (on('docker') && dockerfile) await checkDockerfile(d, loader, path);
      if (on('github-actions') && matchesAny(path, WORKFLOW_GLOBS)) await checkWorkflow(d, loader, path);
      if (on('shell') && (matchesAny(path, SCRIPT_GLOBS) || (!name.includes('.') && !dockerfile && (await hasShellShebang(d, file))))) await checkScript(d, loader, path);
      if (on('notebooks') && matchesAny(path, NOTEBOOK_GLOBS)) await checkNotebook(d, loader, path);
    }
    // Requirement findings land only on changed files; with none changed there is nothing to report. In changed
    // mode only the files of the changed ones' directories and those above are read (see requirementDependents).
    const near = ctx.changed ? new Set([...ctx.changed.changed].filter((p) => matchesAny(p, REQUIREMENTS_GLOBS)).flatMap(ancestorDirs)) : null;
    const relevant = near ? requirementFiles.filter((p) => d.inScope(p) || near.has(dirOf(p))) : requirementFiles;
    if (relevant.some((p) => d.inScope(p))) await checkRequirementFiles(d, loader, relevant);
  },
};
