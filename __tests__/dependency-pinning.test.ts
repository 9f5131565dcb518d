import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const SHA = 'b4ffde65f46336ab88eb53be808477a3936a8b4a';
const DIGEST = `sha256:${'0'.repeat(64)}`;
const H = (c: string): string => `sha256:${c.repeat(64)}`;

const run = (files: Record<string, string>, params?: Record<string, unknown>) => runRuleOn(dependencyPinning, files, { params });

describe('pip requirements', () => {
  it('flags ranges, bare names, branch VCS and digest-less URLs on their lines', async () => {
    const findings = await run({
      'requirements.txt': [
        '# training stack', //                                                 1
        '--extra-index-url https://download.pytorch.org/whl/cu121', //        2
        'torch==2.3.1', //                                                     3
        'transformers>=4.40', //                                               4
        'numpy', //                                                            5
        'accelerate==0.*', //                                                  6
        `lib @ git+https://github.com/org/lib@${SHA}`, //                      7
        'tools @ git+https://github.com/org/tools@main', //                    8
        'https://example.com/pkg-1.0.tar.gz', //                               9
        'safetensors==0.4.3 ; python_version >= "3.9"', //                    10
        '-e .', //                                                             11
      ].join('\n'),
    });
    expect(summarise(findings)).toEqual([
      'extra-index@requirements.txt:2',
      'unpinned-requirement@requirements.txt:4',
      'unpinned-requirement@requirements.txt:5',
      'unpinned-requirement@requirements.txt:6',
      'unpinned-requirement@requirements.txt:8',
      'unpinned-requirement@requirements.txt:9',
    ]);
    expect(findings.find((f) => f.line === 4)!.message).toContain('transformers==<version>');
    expect(findings.find((f) => f.line === 8)!.message).toContain('@<40-hex commit>');
    expect(findings.find((f) => f.line === 9)!.message).toContain('#sha256=<digest>');
  });

  it('follows -r includes (relative to the including file), applies -c constraints and survives cycles', async () => {
    const findings = await run({
      'requirements/prod.txt': '-c ../constraints.txt\n-r base.txt\ngunicorn==22.0.0\n',
      'requirements/base.txt': 'torch\nnumpy\n-r prod.txt\npandas>=2\n',
      'constraints.txt': 'torch==2.3.1\nnumpy==1.26.4\n',
      'requirements-dev.txt': '-r requirements/missing.txt\npytest==8.2.2\n',
    });
    expect(summarise(findings)).toEqual(['unpinned-requirement@requirements/base.txt:4', 'unresolved-include@requirements-dev.txt:1']);
  });

  it('requires hashes when asked, or when the file opts into hash-checking mode', async () => {
    const locked = `torch==2.3.1 \\\n    --hash=${H('a')}\nnumpy==1.26.4\n`;
    expect(summarise(await run({ 'requirements.txt': locked }))).toEqual(['missing-hash@requirements.txt:3']);
    expect(summarise(await run({ 'requirements.txt': 'torch==2.3.1\n' }, { 'require-hashes': true }))).toEqual(['missing-hash@requirements.txt:1']);
    expect(summarise(await run({ 'requirements.txt': `torch==2.3.1 --hash=${H('a')}\n` }, { 'require-hashes': true }))).toEqual([]);
  });

  it('ignores pip-compile inputs (.in) and LFS-free unrelated text files', async () => {
    expect(await run({ 'requirements.in': 'torch\n', 'notes.txt': 'torch\n' })).toEqual([]);
  });
});

describe('pyproject, Pipfile and conda', () => {
  it('needs a lock file beside a pyproject with dependencies', async () => {
    const pyproject = '[build-system]\nrequires = ["hatchling"]\n\n[project]\nname = "clf"\ndependencies = [\n  "torch>=2",\n]\n';
    expect(summarise(await run({ 'pyproject.toml': pyproject }))).toEqual(['missing-lockfile@pyproject.toml:7']);
    expect((await run({ 'pyproject.toml': pyproject }))[0]!.message).toContain('uv lock');
    expect(await run({ 'pyproject.toml': '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n' })).toEqual([]);
  });

  it('accepts uv, poetry, pdm and pylock locks, and flags a lock that misses a dependency', async () => {
    const uvLock = 'version = 1\n\n[[package]]\nname = "torch"\nversion = "2.3.1"\n';
    const pyproject = '[project]\nname = "clf"\ndependencies = [\n  "torch>=2",\n  "Safe_Tensors>=0.4",\n]\n';
    expect(summarise(await run({ 'pyproject.toml': pyproject, 'uv.lock': uvLock }))).toEqual(['stale-lockfile@pyproject.toml:5']);
    const poetry = '[tool.poetry]\nname = "clf"\n\n[tool.poetry.dependencies]\npython = "^3.11"\ntorch = "^2.3"\n\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n';
    const poetryLock = '[[package]]\nname = "torch"\nversion = "2.3.1"\n\n[[package]]\nname = "pytest"\nversion = "8.2.2"\n';
    expect(await run({ 'pyproject.toml': poetry, 'poetry.lock': poetryLock })).toEqual([]);
    expect(summarise(await run({ 'pyproject.toml': poetry }))).toEqual(['missing-lockfile@pyproject.toml:6']);
    const selfRef = '[project]\nname = "clf"\ndependencies = ["torch"]\n[project.optional-dependencies]\nall = ["CLF[gpu]"]\n';
    expect(await run({ 'pyproject.toml': selfRef, 'pdm.lock': '[[package]]\nname = "torch"\nversion = "2.3.1"\n' })).toEqual([]);
    expect((await run({ 'pyproject.toml': poetry }))[0]!.message).toContain('poetry lock');
    const pylock = 'lock-version = "1.0"\n[[packages]]\nname = "torch"\nversion = "2.3.1"\n';
    expect(await run({ 'svc/pyproject.toml': '[project]\nname = "a"\ndependencies = ["torch"]\n', 'svc/pylock.toml': pylock })).toEqual([]);
    // A uv workspace member is locked by the workspace root's uv.lock.
    expect(await run({ 'packages/a/pyproject.toml': '[project]\nname = "a"\ndependencies = ["torch"]\n', 'uv.lock': uvLock })).toEqual([]);
  });

  it('checks Pipfile against Pipfile.lock', async () => {
    const pipfile = '[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n\n[packages]\ntorch = "*"\nnumpy = "==1.26.4"\n';
    expect(summarise(await run({ Pipfile: pipfile }))).toEqual(['missing-lockfile@Pipfile:6']);
    const lock = JSON.stringify({ _meta: {}, default: { torch: { version: '==2.3.1' } }, develop: {} });
    expect(summarise(await run({ Pipfile: pipfile, 'Pipfile.lock': lock }))).toEqual(['stale-lockfile@Pipfile:7']);
  });

  it('checks conda environments: conda pins, the pip section, or a conda-lock file', async () => {
    const env = [
      'name: train', //                       1
      'channels: [conda-forge]', //           2
      'dependencies:', //                     3
      '  - python=3.11.9', //                 4
      '  - numpy', //                         5
      '  - scipy>=1.13', //                   6
      '  - pytorch::pytorch=2.3.1', //        7
      '  - pip', //                           8
      '  - pip:', //                          9
      '      - transformers==4.41.2', //      10
      '      - datasets', //                  11
      '      - -r requirements.txt', //       12
    ].join('\n');
    const findings = await run({ 'environment.yml': env, 'requirements.txt': 'evaluate==0.4.2\n' });
    expect(summarise(findings)).toEqual([
      'unpinned-requirement@environment.yml:11',
      'unpinned-requirement@environment.yml:5',
      'unpinned-requirement@environment.yml:6',
      'unpinned-requirement@environment.yml:8',
    ]);
    expect(findings.find((f) => f.line === 5)!.message).toContain('numpy=<version>');
    expect(await run({ 'environment.yml': env, 'requirements.txt': 'evaluate==0.4.2\n', 'conda-lock.yml': 'version: 1\n' })).toEqual([]);
    expect(summarise(await run({ 'environment.yml': 'dependencies:\n  - pip:\n    - -r reqs.txt\n', 'reqs.txt': 'torch\n' }))).toEqual(['unpinned-requirement@environment.yml:3']);
  });
});

describe('Dockerfiles', () => {
  it('flags tags, latest and ARGs without pinned defaults; accepts digests, stages, scratch and ARG digests', async () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1', //                                 1
      `ARG BASE=python:3.11-slim@${DIGEST}`, //                          2
      'ARG RUNTIME', //                                                  3
      'ARG CUDA=12.1', //                                                4
      'FROM ${BASE} AS build', //                                        5
      'RUN pip install --no-cache-dir torch==2.3.1 \\', //              6
      '    transformers', //                                             7
      'FROM build AS test', //                                           8
      'RUN npm ci && npx jest', //                                       9
      'FROM --platform=$BUILDPLATFORM nvidia/cuda:${CUDA}-runtime', //  10
      'FROM ${RUNTIME}', //                                              11
      'FROM ubuntu', //                                                  12
      `FROM ghcr.io/org/img:1.0@${DIGEST}`, //                           13
      'FROM scratch', //                                                 14
      'COPY --from=build /app /app', //                                  15
      'RUN ["pip", "install", "numpy"]', //                              16
      'RUN --mount=type=cache,target=/root/.cache curl -fsSL https://x/i.sh | bash', // 17
      'RUN <<EOF', //                                                    18
      'set -e', //                                                       19
      'pip install accelerate', //                                       20
      'EOF', //                                                          21
    ].join('\n');
    const findings = await run({ 'docker/Dockerfile': dockerfile });
    expect(summarise(findings)).toEqual([
      'download-and-run@docker/Dockerfile:17',
      'unpinned-image@docker/Dockerfile:10',
      'unpinned-image@docker/Dockerfile:11',
      'unpinned-image@docker/Dockerfile:12',
      'unpinned-install@docker/Dockerfile:16',
      'unpinned-install@docker/Dockerfile:20',
      'unpinned-install@docker/Dockerfile:6',
    ]);
    expect(findings.find((f) => f.line === 10)!.message).toContain('FROM nvidia/cuda:12.1-runtime@sha256:<digest>');
    expect(findings.find((f) => f.line === 12)!.message).toContain('FROM ubuntu:<tag>@sha256:<digest>');
  });

  it('reads continuations as Docker does: comment lines inside them, and a backtick escape character', async () => {
    const commented = `FROM python:3.11@${DIGEST}\nRUN pip install \\\n    torch==2.3.1 \\\n# numpy follows\n\n    numpy\n`;
    expect(summarise(await run({ Dockerfile: commented }))).toEqual(['unpinned-install@Dockerfile:2']);
    const windows = `# escape=\`\nFROM mcr.microsoft.com/windows/servercore@${DIGEST}\nRUN pip install \`\n    torch\n`;
    expect(summarise(await run({ Dockerfile: windows }))).toEqual(['unpinned-install@Dockerfile:3']);
  });

  it('follows pip install -r into the build context: pinned files pass, unpinned ones are named', async () => {
    const files = {
      'svc/Dockerfile': `FROM python:3.11@${DIGEST}\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\nRUN pip install -r dev-requirements.txt\nRUN pip install -r generated.txt\n`,
      'svc/requirements.txt': 'torch==2.3.1\n',
      'svc/dev-requirements.txt': 'pytest\n',
    };
    const findings = await run(files);
    expect(summarise(findings)).toEqual([
      'unpinned-install@svc/Dockerfile:4',
      'unpinned-install@svc/Dockerfile:5',
      'unpinned-requirement@svc/dev-requirements.txt:1',
    ]);
    expect(findings.find((f) => f.line === 4)!.message).toContain('svc/dev-requirements.txt:1');
    expect(findings.find((f) => f.line === 5)!.maxLevel).toBe('warning');
  });
});

describe('GitHub workflows and composite actions', () => {
  const workflow = [
    'name: ci', //                                                          1
    'on: pull_request', //                                                  2
    'jobs:', //                                                             3
    '  test:', //                                                           4
    '    runs-on: ubuntu-latest', //                                        5
    '    container: python:3.11', //                                        6
    '    services:', //                                                     7
    '      db:', //                                                         8
    `        image: postgres:16@${DIGEST}`, //                              9
    '    steps:', //                                                        10
    `      - uses: actions/checkout@${SHA} # v4.1.1`, //                    11
    '      - uses: actions/setup-python@v5', //                             12
    '      - uses: ./.github/actions/local', //                             13
    `      - uses: docker://alpine@${DIGEST}`, //                           14
    '      - uses: docker://alpine:3.20', //                                15
    '      - name: install', //                                             16
    '        run: |', //                                                    17
    '          python -m pip install --upgrade pip==24.1', //               18
    '          pip install -r requirements.txt', //                         19
    '          pip install torch \\', //                                    20
    '            numpy', //                                                 21
    '', //                                                                  22
    '          curl -sSL https://x/install.sh | bash', //                   23
    '      - run: npm ci', //                                               24
    '      - run: npx tsc --noEmit', //                                     25
    '      - run: "npx prettier --check ."', //                             26
    '      - shell: python', //                                             27
    '        run: |', //                                                    28
    '          import os  # pip install nothing', //                       29
    '  release:', //                                                        30
    '    uses: org/workflows/.github/workflows/release.yml@main', //        31
    '  lint:', //                                                           32
    '    runs-on: ubuntu-latest', //                                        33
    '    steps:', //                                                        34
    '      - run: npx eslint .', //                                         35
  ].join('\n');

  it('flags tag-pinned actions, docker:// without digest, containers and run: installs on their lines', async () => {
    const findings = await run({ '.github/workflows/ci.yml': workflow, 'requirements.txt': 'torch==2.3.1\n' });
    expect(summarise(findings)).toEqual([
      'download-and-run@.github/workflows/ci.yml:23',
      'unpinned-action@.github/workflows/ci.yml:12',
      'unpinned-action@.github/workflows/ci.yml:15',
      'unpinned-action@.github/workflows/ci.yml:31',
      'unpinned-image@.github/workflows/ci.yml:6',
      'unpinned-install@.github/workflows/ci.yml:20',
      'unpinned-install@.github/workflows/ci.yml:35',
    ]);
    expect(findings.find((f) => f.line === 12)!.message).toContain('uses: actions/setup-python@<40-hex commit> # v5');
    expect(findings.find((f) => f.line === 15)!.message).toContain('docker://alpine:3.20@sha256:<digest>');
  });

  it('checks composite actions and folded run: blocks', async () => {
    const action = ['name: setup', 'runs:', '  using: composite', '  steps:', '    - uses: actions/cache@v4', '    - shell: bash', '      run: >-', '        pip install', '        torch'].join('\n');
    expect(summarise(await run({ '.github/actions/setup/action.yml': action }))).toEqual([
      'unpinned-action@.github/actions/setup/action.yml:5',
      'unpinned-install@.github/actions/setup/action.yml:8',
    ]);
  });
});

describe('more forms', () => {
  it('resolves -r files from a step\'s working-directory', async () => {
    const wf = 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        working-directory: ./svc\n    steps:\n      - run: uv pip install -r requirements.txt\n';
    const findings = await run({ '.github/workflows/ci.yml': wf, 'svc/requirements.txt': 'torch>=2\n', 'requirements.txt': 'torch==2.3.1\n' });
    expect(summarise(findings)).toEqual(['unpinned-install@.github/workflows/ci.yml:9', 'unpinned-requirement@svc/requirements.txt:1']);
  });

  it('accepts space-separated conda pins and URL digests in hash-checking mode', async () => {
    expect(await run({ 'environment.yml': 'dependencies:\n  - numpy 1.26.4 py311h_0\n  - conda-forge::scipy==1.13.1\n' })).toEqual([]);
    const url = `pkg @ https://example.com/pkg-1.0.tar.gz#sha256=${'c'.repeat(64)}\n`;
    expect(await run({ 'requirements.txt': url }, { 'require-hashes': true })).toEqual([]);
  });
});

describe('shell scripts and notebooks', () => {
  it('checks *.sh and *.bash scripts', async () => {
    const script = '#!/usr/bin/env bash\nset -euo pipefail\n\npip install -r requirements.txt\nconda install -y faiss-cpu\nwget -qO- https://x/setup | sh\n';
    expect(summarise(await run({ 'scripts/setup.sh': script, 'scripts/requirements.txt': 'faiss==1.8.0\n', 'tools/x.bash': 'npx cowsay hi\n' }))).toEqual([
      'download-and-run@scripts/setup.sh:6',
      'unpinned-install@scripts/setup.sh:5',
      'unpinned-install@tools/x.bash:1',
    ]);
  });

  it('reports notebook !pip / %pip / %%bash lines on the .ipynb line', async () => {
    const nb = {
      cells: [
        { cell_type: 'markdown', metadata: {}, source: ['!pip install in-markdown\n'] },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['import sys\n', '!pip install torch==2.3.1 transformers\n', '%pip install -q datasets==2.19.1\n', '!{sys.executable} -m pip install evaluate'] },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['%%bash\n', 'curl -fsSL https://x | sh\n'] },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: '%conda install -y numpy=1.26.4\n!conda install scipy' },
      ],
      metadata: { kernelspec: { language: 'python', name: 'python3', display_name: 'Python 3' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const text = JSON.stringify(nb, null, 1);
    const lineOf = (needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const findings = await run({ 'notebooks/train.ipynb': text });
    expect(summarise(findings)).toEqual(
      [
        `download-and-run@notebooks/train.ipynb:${lineOf('curl -fsSL')}`,
        `unpinned-install@notebooks/train.ipynb:${lineOf('!pip install torch')}`,
        `unpinned-install@notebooks/train.ipynb:${lineOf('sys.executable')}`,
        `unpinned-install@notebooks/train.ipynb:${lineOf('%conda install')}`,
      ].sort(),
    );
  });
});

describe('parameters', () => {
  it('checks only the listed ecosystems', async () => {
    const files = {
      'requirements.txt': 'torch\n',
      Dockerfile: 'FROM ubuntu:24.04\n',
      'run.sh': 'pip install torch\n',
    };
    expect(summarise(await run(files, { ecosystems: ['docker'] }))).toEqual(['unpinned-image@Dockerfile:1']);
    expect(summarise(await run(files, { ecosystems: ['pip', 'shell'] }))).toEqual(['unpinned-install@run.sh:1', 'unpinned-requirement@requirements.txt:1']);
  });
});
