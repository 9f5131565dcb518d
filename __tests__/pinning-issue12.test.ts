import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { readWorkflow } from '../src/formats/workflow.js';
import { loadYaml, loadYamlLenient, YamlError } from '../src/formats/yaml.js';
import { runRuleOn, summarise } from './helpers/repo.js';

/** Issue 12, dependency-pinning part: what eleven real ML repositories showed missing or wrong. */

const SHA = 'b4ffde65f46336ab88eb53be808477a3936a8b4a';
const DIGEST = `sha256:${'0'.repeat(64)}`;
const HEX = 'e'.repeat(64);

const run = (files: Record<string, string>) => runRuleOn(dependencyPinning, files);
const levels = (findings: { code?: string; line?: number; maxLevel?: string; path?: string }[]): string[] =>
  findings.map((f) => `${f.code}@${f.path}:${f.line}${f.maxLevel ? `:${f.maxLevel}` : ''}`).sort();

function notebook(cells: string[][]): string {
  return JSON.stringify(
    {
      cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
      metadata: { kernelspec: { language: 'python', name: 'python3', display_name: 'Python 3' } },
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  );
}
const lineIn = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('Dockerfile names', () => {
  it('scans Dockerfile-*, *.Dockerfile and Containerfile', async () => {
    const files = { 'docker/Dockerfile-cuda': 'FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n', 'serve.Dockerfile': 'FROM python:3.11-slim\n', Containerfile: `FROM python:3.11@${DIGEST}\nRUN pip install torch\n` };
    expect(summarise(await run(files))).toEqual(['unpinned-image@docker/Dockerfile-cuda:1', 'unpinned-image@serve.Dockerfile:1', 'unpinned-install@Containerfile:2']);
  });
});

describe('wrapped installers', () => {
  it('follows conda run, a runner in a variable, uv run, sudo and xargs to the pip install they run', async () => {
    const script = [
      '#!/usr/bin/env bash', //                                           1
      'conda run -n train pip install torch', //                          2
      'CONDA_RUN="conda run -n train"', //                                3
      '${CONDA_RUN} python -m pip install transformers', //               4
      'uv run pip install accelerate', //                                 5
      'sudo pip install datasets', //                                     6
      'echo torch numpy | xargs pip install', //                         7
      'xargs -n 1 pip install < requirements.txt', //                    8
      'cat dev-requirements.txt | xargs pip install', //                 9
      'conda run -n train --no-capture-output pip install torch==2.3.1', // 10
      'poetry run pip install "numpy==1.26.4"', //                       11
      'some_generator | xargs pip install', //                           12
      '"$PYTHON" -m pip install scipy', //                               13
      '${PIP_BIN} install pandas==2.2.2', //                             14
    ].join('\n');
    const findings = await run({ 'setup.sh': script, 'requirements.txt': 'torch==2.3.1\n', 'dev-requirements.txt': 'pytest\n' });
    expect(levels(findings)).toEqual([
      'unpinned-install@setup.sh:12:warning',
      'unpinned-install@setup.sh:13',
      'unpinned-install@setup.sh:2',
      'unpinned-install@setup.sh:4',
      'unpinned-install@setup.sh:5',
      'unpinned-install@setup.sh:6',
      'unpinned-install@setup.sh:7',
      'unpinned-install@setup.sh:9',
      'unpinned-requirement@dev-requirements.txt:1',
    ]);
    expect(findings.find((f) => f.line === 7)!.message).toContain('torch==<version> numpy==<version>');
    expect(findings.find((f) => f.line === 9)!.message).toContain('dev-requirements.txt:1');
  });
});

describe('extra-index (dependency confusion)', () => {
  it('flags --extra-index-url and unsafe index strategies at warning; --index-url alone, hashes and uv defaults pass', async () => {
    const wf = [
      'on: push', //                                                                                         1
      'jobs:', //                                                                                            2
      '  t:', //                                                                                             3
      '    runs-on: ubuntu-latest', //                                                                       4
      '    steps:', //                                                                                       5
      '      - run: pip install --extra-index-url https://download.pytorch.org/whl/cu121 torch==2.3.1', //  6
      '      - run: pip install --index-url https://download.pytorch.org/whl/cu121 torch==2.3.1', //        7
      '      - run: uv pip install --index-strategy unsafe-best-match --extra-index-url https://pkgs.internal/simple lib==1.0', // 8
      '      - run: uv pip install --extra-index-url https://pkgs.internal/simple lib==1.0', //              9
      '      - run: pip install --require-hashes --extra-index-url https://pkgs.internal/simple -r requirements.txt', // 10
      '      - run: pip install --extra-index-url=https://pypi.org/simple torch==2.3.1', //                 11
      '      - run: pip install -i https://pkgs.internal/simple --extra-index-url https://pypi.org/simple lib==1.0', // 12
      '      - run: PIP_EXTRA_INDEX_URL=https://pkgs.internal/simple pip install lib==1.0', //             13
      '      - run: |', //                                                                                  14
      '          export PIP_EXTRA_INDEX_URL=https://pkgs.internal/simple', //                               15
      '          python -m pip install lib==1.0', //                                                        16
      '      - env:', //                                                                                      17
      '          PIP_EXTRA_INDEX_URL: https://pkgs.internal/simple', //                                     18
      '        run: pip install lib==1.0', //                                                               19
      '      - run: pip install lib==1.0', //                                                             20
    ].join('\n');
    const findings = await run({
      '.github/workflows/ci.yml': wf,
      'requirements.txt': `--extra-index-url https://pkgs.internal/simple\ntorch==2.3.1\n`,
      'locked-requirements.txt': `--extra-index-url https://pkgs.internal/simple\ntorch==2.3.1 --hash=sha256:${HEX}\n`,
      'private/requirements.txt': '--index-url https://pkgs.internal/simple\n--extra-index-url https://pypi.org/simple\nlib==1.0\n',
      'mirror/requirements.txt': '--index-url https://pkgs.internal/simple\nlib==1.0\n',
    });
    expect(levels(findings)).toEqual([
      'extra-index@.github/workflows/ci.yml:12:warning',
      'extra-index@.github/workflows/ci.yml:13:warning',
      'extra-index@.github/workflows/ci.yml:16:warning',
      'extra-index@.github/workflows/ci.yml:19:warning',
      'extra-index@.github/workflows/ci.yml:6:warning',
      'extra-index@.github/workflows/ci.yml:8',
      'extra-index@private/requirements.txt:2:warning',
      'extra-index@requirements.txt:1:warning',
    ]);
    expect(findings.find((f) => f.line === 6)!.message).toContain('dependency confusion');
  });
});

describe('unverified-download', () => {
  it('flags weights fetched with wget/curl in notebooks, scripts and Dockerfiles unless a digest check follows', async () => {
    const nb = notebook([
      ['!wget https://example.com/releases/resnet50.pth\n', 'import torch\n'],
      ['!curl -L -o weights/vit.safetensors https://example.com/vit\n'],
      ['!sha256sum weights/other.bin\n'],
      ['!wget -q https://example.com/data/train.tar.gz\n'],
    ]);
    const verifiedNb = notebook([['!wget https://example.com/m.onnx\n'], [`!echo "${HEX}  m.onnx" | sha256sum --check\n`]]);
    const script = ['set -e', 'curl -fsSL -o model.pt https://example.com/model.pt', 'wget https://example.com/tok.gguf', 'shasum -a 256 -c tok.gguf.sha256', 'python serve.py'].join('\n');
    const unchecked = ['set -e', 'wget -O ckpt/last.ckpt https://example.com/last.ckpt', 'sha256sum ckpt/last.ckpt', 'python train.py --resume ckpt/last.ckpt'].join('\n');
    const dockerfile = [`FROM python:3.11@${DIGEST}`, 'RUN wget -q https://example.com/encoder.onnx', 'RUN curl -o /models/clf.pkl https://example.com/clf.pkl && openssl dgst -sha256 -verify key.pem -signature clf.sig /models/clf.pkl'].join('\n');
    const findings = await run({ 'demo.ipynb': nb, 'ok.ipynb': verifiedNb, 'get.sh': script, 'resume.sh': unchecked, Dockerfile: dockerfile });
    expect(summarise(findings)).toEqual([
      'unverified-download@Dockerfile:2',
      `unverified-download@demo.ipynb:${lineIn(nb, 'resnet50.pth')}`,
      `unverified-download@demo.ipynb:${lineIn(nb, 'vit.safetensors')}`,
      'unverified-download@resume.sh:2',
    ].sort());
    expect(findings.find((f) => f.path === 'resume.sh')!.message).toContain('sha256sum -c');
  });

  it('accepts a check in a later step of the same job, not in another job', async () => {
    const wf = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: gsutil cp gs://bucket/model.pt .',
      `      - run: echo "${HEX}  model.pt" | sha256sum -c -`,
      '  b:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: aws s3 cp s3://bucket/model.h5 model.h5',
      '      - run: python eval.py',
    ].join('\n');
    expect(summarise(await run({ '.github/workflows/eval.yml': wf }))).toEqual(['unverified-download@.github/workflows/eval.yml:11']);
  });
});

describe('messages', () => {
  it('reads %pip install -qr requirements.txt as a requirements file', async () => {
    const nb = notebook([['%pip install -qr requirements.txt\n'], ['!pip install -Uqr dev-requirements.txt\n']]);
    const findings = await run({ 'nb/train.ipynb': nb, 'nb/requirements.txt': 'torch==2.3.1\n', 'nb/dev-requirements.txt': 'pytest\n' });
    expect(summarise(findings)).toEqual([`unpinned-install@nb/train.ipynb:${lineIn(nb, 'dev-requirements')}`, 'unpinned-requirement@nb/dev-requirements.txt:1']);
    const msg = findings.find((f) => f.code === 'unpinned-install')!.message;
    expect(msg).toContain('-r dev-requirements.txt');
    expect(msg).not.toContain('dev-requirements.txt==');
  });

  it('writes VCS fixes as one well-formed requirement', async () => {
    const findings = await run({ 'run.sh': 'pip install git+https://github.com/org/x.git\npip install "x @ git+https://github.com/org/x.git@main"\n' });
    const fixes = findings.map((f) => f.message.slice(f.message.indexOf('pin it: ') + 8));
    expect(fixes).toEqual(['pip install "git+https://github.com/org/x.git@<40-hex commit>"', 'pip install "x @ git+https://github.com/org/x.git@<40-hex commit>"']);
  });
});

describe('workflow YAML that GitHub accepts', () => {
  /** Realistic shapes: each must parse, and findings sit on the line of their `uses:`/`run:`. */
  const corpus: { name: string; text: string; uses: number[]; runs: number[] }[] = [
    {
      name: 'flow sequence closing at the key indentation',
      text: 'on:\n  push:\n    branches: [\n      main,\n      "release/**"\n    ]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install torch\n',
      uses: [11],
      runs: [12],
    },
    {
      name: 'matrix list closing at the key indentation',
      text: 'on: push\njobs:\n  t:\n    strategy:\n      matrix:\n        python: [\n          "3.10", "3.11",\n        ]\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          python-version: ${{ matrix.python }}\n',
      uses: [11],
      runs: [],
    },
    {
      name: 'multi-line flow map',
      text: 'on: {push: {branches: [main]},\n  pull_request: {}}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - {uses: actions/checkout@v4,\n         with: {fetch-depth: 0}}\n      - run: npm install\n',
      uses: [7],
      runs: [9],
    },
    {
      name: 'anchors and aliases',
      text: `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - &co\n        uses: actions/checkout@v4\n      - run: |\n          echo hi\n          pip install numpy\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - *co\n      - uses: actions/cache@${SHA}\n`,
      uses: [7, 14, 15],
      runs: [10],
    },
    {
      name: 'comments, quoted keys, folded and stripped block scalars, CRLF',
      text: '# ci\r\n"on": push\r\njobs:\r\n  t: # the job\r\n    runs-on: ubuntu-latest\r\n    steps:\r\n      - name: "install"\r\n        run: >-\r\n          pip install\r\n          transformers\r\n      - "uses": \'actions/checkout@v4\'\r\n',
      uses: [11],
      runs: [9],
    },
  ];

  it.each(corpus)('$name', async ({ text, uses, runs }) => {
    const wf = readWorkflow(text);
    expect(wf.uses.map((u) => u.line)).toEqual(uses);
    const findings = await run({ '.github/workflows/ci.yml': text });
    expect(findings.filter((f) => f.code === 'unpinned-action').map((f) => f.line)).toEqual([...new Set(uses.filter((l) => !text.split('\n')[l - 1]!.includes(SHA)))]);
    expect(findings.filter((f) => f.code === 'unpinned-install').map((f) => f.line)).toEqual(runs);
  });

  it('reads flow collections at or left of their key as PyYAML does, and multi-line quoted scalars', () => {
    const shapes: [string, unknown][] = [
      ['on:\n  push:\n    branches: [\n    main,\n    ]\njobs: {}\n', { on: { push: { branches: ['main'] } }, jobs: {} }],
      ['on:\n  push:\n    branches: [\n  main,\n  "dev"\n]\njobs: {}\n', { on: { push: { branches: ['main', 'dev'] } }, jobs: {} }],
      ['a:\n  b: [\n  [1,\n  2],\n  {c: [\n  3]}\n  ]\nd: 1\n', { a: { b: [[1, 2], { c: [3] }] }, d: 1 }],
      ['a:\n  b: "x\n  y"\n', { a: { b: 'x y' } }],
      [`k: [\n${'x,\n'.repeat(400)}]\nz: 1\n`, { k: Array(400).fill('x'), z: 1 }],
    ];
    for (const [text, value] of shapes) expect(loadYamlLenient(text).value).toEqual(value);
  });

  it('agrees with the strict loader on every shape the strict loader accepts', () => {
    for (const { text } of corpus) {
      let strict;
      try {
        strict = loadYaml(text);
      } catch (e) {
        expect(e).toBeInstanceOf(YamlError);
        continue;
      }
      const lenient = loadYamlLenient(text);
      expect(lenient.value).toEqual(strict.value);
      for (const path of [['jobs'], ['jobs', 't'], ['jobs', 't', 'steps', 0], ['jobs', 'a', 'steps', 1, 'run']]) {
        expect(lenient.locate(path)).toEqual(strict.locate(path));
      }
    }
  });

  it('throws nothing but YamlError on workflow-shaped token soup', () => {
    const tokens = ['on:', 'jobs:', '  ', '    ', '\n', '[', ']', '{', '}', ',', '- ', 'uses: a/b@v1', 'run: |', 'pip install x', '"', "'", '#', '&a ', '*a', ': ', 'steps:', '\t', '? ', '|-', '>'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 60 }), (parts) => {
        try {
          readWorkflow(parts.join(''));
        } catch (e) {
          expect(e).toBeInstanceOf(YamlError);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('still reports a file GitHub would reject, on its line, and stays bounded', async () => {
    const broken = 'on: push\njobs:\n  t:\n    steps: [\n      - run: x\n';
    expect(summarise(await run({ '.github/workflows/bad.yml': broken }))).toEqual([expect.stringMatching(/^malformed@\.github\/workflows\/bad\.yml:\d+$/)]);
    expect(summarise(await run({ '.github/workflows/dup.yml': 'on: push\non: pull_request\njobs: {}\n' }))).toEqual(['malformed@.github/workflows/dup.yml:2']);
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}\n`;
    expect(() => loadYamlLenient(bomb)).toThrow(YamlError);
    expect(() => loadYamlLenient(`${'['.repeat(5000)}${']'.repeat(5000)}`)).toThrow(YamlError);
    // Every repair parses again: hostile files that keep needing one are refused within a few parses.
    const started = Date.now();
    for (const hostile of [Array.from({ length: 2000 }, (_, i) => `k${i}: [\na,\n]`).join('\n'), `a: [\n${'[\n'.repeat(100_000)}`, `${Array.from({ length: 60_000 }, (_, i) => `k${i}: v`).join('\n')}\nz: [\nq\n]`]) {
      expect(() => loadYamlLenient(hostile)).toThrow(YamlError);
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
