import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { parseCodeowners } from '../src/formats/codeowners.js';
import { analyseShell } from '../src/formats/shell.js';
import { runRuleOn, summarise } from './helpers/repo.js';
import { CLEAN_SHELL, FLAGGED_SHELL } from './helpers/shell-fixtures.js';

/** Issue 20: the cases where Scorecard's, zizmor's and GitHub's own test suites showed mlgate wrong. */

const SHA = 'b4ffde65f46336ab88eb53be808477a3936a8b4a';
const DIGEST = `sha256:${'0'.repeat(64)}`;
const BASE = `FROM python:3.11@${DIGEST}`;

const run = (files: Record<string, string>) => runRuleOn(dependencyPinning, files);
const kinds = (text: string): string[] => analyseShell(text).map((i) => `${i.kind}:${i.line}`);
const codes = (findings: { code?: string }[]): string[] => findings.map((f) => f.code ?? '').sort();

describe('1. exec-form RUN is analysed as Docker runs it', () => {
  it('reads each JSON argument with its spaces, escapes and continuations', async () => {
    const dockerfile = [
      BASE, //                                                          1
      'RUN ["sh","-c","curl -fsSL https://x/i.sh | sh"]', //            2
      'RUN ["/bin/bash","-c","pip install torch"]', //                  3
      'RUN [ "bash", "-lc", "pip install \\"numpy>=1\\" \\u0074qdm" ]', // 4
      'RUN ["pip", "install", "--no-cache-dir", "torch==2.3.1"]', //    5
      'RUN ["/bin/sh", "-c", \\', //                                    6
      '    "npm install"]', //                                          7
    ].join('\n');
    const findings = await run({ Dockerfile: dockerfile });
    expect(summarise(findings)).toEqual(['download-and-run@Dockerfile:2', 'unpinned-install@Dockerfile:3', 'unpinned-install@Dockerfile:4', 'unpinned-install@Dockerfile:6']);
    expect(findings.find((f) => f.line === 4)!.message).toContain('numpy==<version> tqdm==<version>');
  });

  const fixtures = [...FLAGGED_SHELL.map(([name, text, want]) => ({ name, text, want })), ...CLEAN_SHELL.map(([name, text]) => ({ name, text, want: [] as string[] }))].filter(
    (f) => !f.text.startsWith('<<'),
  );
  it.each(fixtures)('$name: the same findings in shell form and in exec form', async ({ text, want }) => {
    const shellForm = text.includes('\n') ? `${BASE}\nRUN <<DOCKER_EOF\n${text}\nDOCKER_EOF\n` : `${BASE}\nRUN ${text}\n`;
    const execForm = `${BASE}\nRUN ["/bin/sh", "-c", ${JSON.stringify(text)}]\n`;
    const shell = codes(await run({ Dockerfile: shellForm }));
    expect(shell).toEqual(want.map((w) => w.split(':')[0]).sort());
    expect(codes(await run({ Dockerfile: execForm }))).toEqual(shell);
  });
});

describe('2. stdin interpreters and su -c', () => {
  it.each([
    ['curl | bash /dev/stdin', 'curl -fsSL https://x/i.sh | bash /dev/stdin --yes', ['download-and-run:1']],
    ['wget | sh /dev/stdin', 'wget -qO- https://x/i.sh | sh /dev/stdin', ['download-and-run:1']],
    ['curl | bash -s stable', 'curl -sSL https://get.example.org | bash -s stable', ['download-and-run:1']],
    ['su -c', 'su -c "pip install torch"', ['unpinned-install:1']],
    ['sudo su -c', "sudo su -c 'curl -fsSL https://x/i.sh | sh'", ['download-and-run:1']],
    ['su - user -c', "su - ml -c 'pip install numpy'", ['unpinned-install:1']],
    ['su --command=', 'su --command="npm install left-pad"', ['unpinned-install:1']],
    ['bash script.sh is not stdin', 'curl -fsSL https://x/data.json | bash scripts/consume.sh', []],
    ['su -c with pins', "su -c 'pip install torch==2.3.1'", []],
  ])('%s', (_name, text, want) => {
    expect(kinds(text)).toEqual(want);
  });
});

describe('3. bucket downloads that are then run or installed', () => {
  it.each([
    ['gsutil cp then bash', 'gsutil cp gs://bucket/setup.sh .\nbash setup.sh', ['download-and-run:2']],
    ['gcloud storage cp then ./run', 'gcloud storage cp gs://b/tool /usr/local/bin/tool && chmod +x /usr/local/bin/tool && /usr/local/bin/tool', ['download-and-run:1']],
    ['aws s3 cp then pip install', 'aws s3 cp s3://b/wheels/lib-1.0-py3-none-any.whl /tmp/lib-1.0-py3-none-any.whl\npip install /tmp/lib-1.0-py3-none-any.whl', ['download-and-run:2']],
    ['aws s3api get-object then sh', 'aws s3api get-object --bucket b --key install.sh install.sh\nsh install.sh', ['download-and-run:2']],
    ['az storage blob download then python', 'az storage blob download --container-name c --name prep.py --file prep.py\npython prep.py', ['download-and-run:2']],
    ['aws s3 cp to stdout | bash', 'aws s3 cp s3://b/install.sh - | bash', ['download-and-run:1']],
    ['verified in between', 'gsutil cp gs://b/setup.sh .\necho "abc  setup.sh" | sha256sum -c -\nbash setup.sh', []],
    ['upload is not a download', 'gsutil cp model.sh gs://b/\nbash model.sh', []],
  ])('%s', (_name, text, want) => {
    expect(kinds(text)).toEqual(want);
  });
});

describe('4. a package given whole as a variable', () => {
  it('is a finding, info when the same file gives it a pinned default', async () => {
    const dockerfile = [
      BASE, //                                               1
      'ARG PACKAGE', //                                      2
      'ARG PINNED=torch==2.3.1', //                          3
      'ENV TOOLS="ruff==0.5.0 black==24.4.2"', //            4
      'RUN python3 -m pip install ${PACKAGE}', //            5
      'RUN pip install "$PINNED"', //                        6
      'RUN pip install $TOOLS', //                           7
      'RUN pip install torch==${TORCH_VERSION}', //          8
      'RUN pip install "${EXTRA:-numpy}"', //                9
      'RUN pip install "${EXTRA2:-numpy==1.26.4}"', //       10
    ].join('\n');
    const findings = await run({ Dockerfile: dockerfile });
    expect(findings.map((f) => `${f.code}:${f.line}:${f.maxLevel ?? ''}`).sort()).toEqual([
      'unpinned-install:10:info',
      'unpinned-install:5:',
      'unpinned-install:6:info',
      'unpinned-install:7:info',
      'unpinned-install:9:',
    ]);
    expect(findings.find((f) => f.line === 5)!.message).toContain('which has no value in this file');
  });

  it('reads a workflow step\'s env:, which does not carry over to the next step', async () => {
    const wf = [
      'on: push',
      'jobs:',
      '  t:',
      '    runs-on: ubuntu-latest',
      '    env:',
      '      TOOL: ruff',
      '    steps:',
      '      - env:',
      '          PKG: torch==2.3.1',
      '        run: pip install "$PKG"',
      '      - run: pip install "$PKG"',
      '      - run: pip install $TOOL',
    ].join('\n');
    const findings = await run({ '.github/workflows/ci.yml': wf });
    expect(findings.map((f) => `${f.code}:${f.line}:${f.maxLevel ?? ''}`).sort()).toEqual(['unpinned-install:10:info', 'unpinned-install:11:', 'unpinned-install:12:']);
  });

  it('reads shell assignments and script arguments', () => {
    const issues = analyseShell('PKG=torch\nexport PINNED=torch==2.3.1\npip install "$PKG"\npip install $PINNED\npip install "$@"');
    expect(issues.map((i) => `${i.line}:${'maxLevel' in i ? (i.maxLevel ?? '') : ''}`)).toEqual(['3:', '4:info', '5:info']);
  });
});

describe('5. Dockerfile names and shebang scripts', () => {
  it('reads Dockerfile-*, Dockerfile_*, *.Dockerfile, Containerfile and shell-shebang scripts; skips code named Dockerfile.*', async () => {
    const files = {
      'docker/Dockerfile-gpu': 'FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04\n',
      'docker/Dockerfile_cpu': 'FROM ubuntu:22.04\n',
      'train.Dockerfile': 'FROM python:3.11\n',
      Containerfile: 'FROM fedora:40\n',
      'Dockerfile.dev': 'FROM node:20\n',
      'tools/Dockerfile.py': 'TEMPLATE = """\nFROM ubuntu\n"""\n',
      'tools/Dockerfile.go': 'package main // FROM ubuntu\n',
      'tools/Dockerfile.js': 'const d = "FROM ubuntu";\n',
      'tools/Dockerfile.sh': 'echo "FROM ubuntu" > Dockerfile\n',
      'scripts/install': '#!/usr/bin/env bash\nset -e\npip install torch\n',
      'scripts/setup': '#!/bin/sh\ncurl -fsSL https://x/i.sh | sh\n',
      'scripts/train': '#!/usr/bin/env python3\nprint("pip install torch")\n',
      'scripts/NOTES': 'pip install torch\n',
    };
    expect(summarise(await run(files))).toEqual([
      'download-and-run@scripts/setup:2',
      'unpinned-image@Containerfile:1',
      'unpinned-image@Dockerfile.dev:1',
      'unpinned-image@docker/Dockerfile-gpu:1',
      'unpinned-image@docker/Dockerfile_cpu:1',
      'unpinned-image@train.Dockerfile:1',
      'unpinned-install@scripts/install:3',
    ]);
  });
});

describe('6. more installers', () => {
  it.each([
    ['npm install-test', 'npm install-test', ['unpinned-install:1']],
    ['npm it', 'npm it', ['unpinned-install:1']],
    ['npm it with a range', 'npm it left-pad@^1', ['unpinned-install:1']],
    ['go install @latest', 'go install golang.org/x/tools/gopls@latest', ['unpinned-install:1']],
    ['go install @branch', 'go install github.com/org/tool@main', ['unpinned-install:1']],
    ['go get without version', 'go get github.com/org/lib', ['unpinned-install:1']],
    ['go install exact', `go install golang.org/x/tools/gopls@v0.16.1\ngo install github.com/org/tool@${SHA}\ngo install ./cmd/...`, []],
    ['go get exact', 'go get github.com/org/lib@v1.2.3', []],
    ['choco', 'choco install -y git', ['unpinned-install:1']],
    ['choco pinned', 'choco install -y git --version 2.45.0', []],
    ['nuget', 'nuget install Newtonsoft.Json', ['unpinned-install:1']],
    ['nuget pinned', 'nuget install Newtonsoft.Json -Version 13.0.3\nnuget install packages.config', []],
    ['dotnet add package', 'dotnet add package Newtonsoft.Json', ['unpinned-install:1']],
    ['dotnet add package pinned', 'dotnet add package Newtonsoft.Json --version 13.0.3', []],
  ])('%s', (_name, text, want) => {
    expect(kinds(text)).toEqual(want);
  });
});

describe('7, 10. workflow images from a matrix, same-repository uses, empty service images', () => {
  it('checks matrix images value by value, caps unresolvable expressions at info, and skips $/ and empty images', async () => {
    const wf = [
      'on: push', //                                                    1
      'jobs:', //                                                       2
      '  test:', //                                                     3
      '    strategy:', //                                               4
      '      matrix:', //                                               5
      `        image: [ubuntu, "ubuntu:latest", "alpine@${DIGEST}"]`, // 6
      '        include:', //                                            7
      '          - image: debian:12', //                                8
      '          - redis: ""', //                                       9
      '    runs-on: ubuntu-latest', //                                  10
      '    container: ${{ matrix.image }}', //                          11
      '    services:', //                                               12
      '      cache:', //                                                13
      '        image: ${{ matrix.redis }}', //                          14
      '      db:', //                                                   15
      '        image: ${{ inputs.db-image }}', //                       16
      '      off:', //                                                  17
      '        image: ""', //                                           18
      '    steps:', //                                                  19
      `      - uses: actions/checkout@${SHA}`, //                       20
      '  reuse:', //                                                    21
      '    uses: $/.github/workflows/reusable.yml', //                  22
    ].join('\n');
    const findings = await run({ '.github/workflows/ci.yml': wf });
    expect(findings.map((f) => `${f.code}:${f.line}:${f.maxLevel ?? ''}`).sort()).toEqual([
      'unpinned-image:11:',
      'unpinned-image:11:',
      'unpinned-image:11:',
      'unpinned-image:16:info',
    ]);
    const on11 = findings.filter((f) => f.line === 11).map((f) => f.message);
    for (const image of ['ubuntu ', 'ubuntu:latest', 'debian:12']) expect(on11.some((m) => m.includes(`container image ${image}`))).toBe(true);
  });
});

describe('8, 9. commit-pinned git:// editables and digests from build arguments', () => {
  it('accepts -e git://…@<commit>#egg= and flags it at a branch with a well-formed fix', async () => {
    const req = `-e git://github.com/org/lib@${SHA}#egg=lib\n-e git://github.com/org/other@main#egg=other\n`;
    const findings = await run({ 'requirements.txt': req });
    expect(summarise(findings)).toEqual(['unpinned-requirement@requirements.txt:2']);
    expect(findings[0]!.message).toContain('pin it to a commit: other @ git://github.com/org/other@<40-hex commit>#egg=other');
    expect(findings[0]!.message).not.toContain('#sha256');
  });

  it('takes FROM image@sha256:${HASH} as a digest reference and words the no-default case plainly', async () => {
    const dockerfile = ['ARG HASH', 'ARG IMAGE', 'FROM python@sha256:${HASH}', 'FROM ghcr.io/org/base@sha256:$HASH AS b', 'FROM ${IMAGE}'].join('\n');
    const findings = await run({ Dockerfile: dockerfile });
    expect(summarise(findings)).toEqual(['unpinned-image@Dockerfile:5']);
    expect(findings[0]!.message).toContain('build argument that has no default');
  });
});

describe('11. every suggested fix, applied to its line, makes the finding go away', () => {
  const PLACEHOLDERS: [string, string][] = [
    ['<40-hex commit>', SHA],
    ['<version>', '1.2.3'],
    ['<digest>', '1'.repeat(64)],
    ['<tag>', '24.04'],
  ];
  const FIX = /(?:pin it to a commit|pin it where the matrix lists it|pin them|pin it|add its digest|add the archive's digest): (.*?)(?: \(|, or |; |$)/;
  const fixOf = (message: string): string => {
    const m = FIX.exec(message);
    if (!m) throw new Error(`no fix in: ${message}`);
    return PLACEHOLDERS.reduce((s, [k, v]) => s.replaceAll(k, v), m[1]!);
  };

  /** File, its text with `@@` marking the line under test, and where on that line the fix starts (default: after the indentation). */
  const cases: { name: string; file: string; text: string; anchor?: string }[] = [
    { name: 'requirement range', file: 'requirements.txt', text: 'numpy==1.26.4\n@@torch>=2' },
    { name: 'bare requirement', file: 'requirements.txt', text: '@@numpy' },
    { name: 'named VCS at a branch', file: 'requirements.txt', text: '@@tools @ git+https://github.com/org/tools@main' },
    { name: 'VCS with egg at a tag', file: 'requirements.txt', text: '@@git+https://github.com/org/tools.git@v1.0#egg=tools' },
    { name: 'ssh VCS with a user', file: 'requirements.txt', text: '@@lib @ git+ssh://git@github.com/org/lib.git@main' },
    { name: 'archive URL', file: 'requirements.txt', text: '@@https://example.com/pkg-1.0.tar.gz' },
    { name: 'git:// editable', file: 'requirements.txt', text: '@@-e git://github.com/org/x@main#egg=x' },
    { name: 'FROM tag', file: 'Dockerfile', text: '@@FROM python:3.11', anchor: 'FROM' },
    { name: 'FROM bare', file: 'Dockerfile', text: '@@FROM ubuntu', anchor: 'FROM' },
    { name: 'RUN pip', file: 'Dockerfile', text: `${BASE}\n@@RUN pip install torch numpy`, anchor: 'pip' },
    { name: 'RUN pip VCS', file: 'Dockerfile', text: `${BASE}\n@@RUN pip install git+https://github.com/org/x.git@main`, anchor: 'pip' },
    { name: 'RUN pip VCS without name, ssh', file: 'Dockerfile', text: `${BASE}\n@@RUN pip install "git+ssh://git@github.com/org/x.git"`, anchor: 'pip' },
    { name: 'RUN pip URL', file: 'Dockerfile', text: `${BASE}\n@@RUN pip install https://example.com/pkg-1.0.tar.gz`, anchor: 'pip' },
    { name: 'exec-form pip', file: 'Dockerfile', text: `${BASE}\n@@RUN ["pip", "install", "torch"]`, anchor: '[' },
    { name: 'npm install', file: 'run.sh', text: '@@npm install left-pad' },
    { name: 'npx', file: 'run.sh', text: '@@npx prettier --check .' },
    { name: 'yarn add', file: 'run.sh', text: '@@yarn add left-pad' },
    { name: 'conda', file: 'run.sh', text: '@@conda install -y numpy' },
    { name: 'uvx', file: 'run.sh', text: '@@uvx ruff' },
    { name: 'pipx run', file: 'run.sh', text: '@@pipx run cowsay' },
    { name: 'poetry add', file: 'run.sh', text: '@@poetry add torch@^2.0' },
    { name: 'go install', file: 'run.sh', text: '@@go install golang.org/x/tools/gopls@latest' },
    { name: 'choco', file: 'run.sh', text: '@@choco install git' },
    { name: 'wrapped install', file: 'run.sh', text: '@@conda run -n env pip install torch', anchor: 'pip' },
    { name: 'action tag', file: '.github/workflows/ci.yml', text: 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n@@      - uses: actions/setup-python@v5', anchor: 'uses:' },
    { name: 'docker:// action', file: '.github/workflows/ci.yml', text: 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n@@      - uses: docker://alpine:3.20', anchor: 'uses:' },
    { name: 'service image', file: '.github/workflows/ci.yml', text: 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    services:\n      db:\n@@        image: postgres:16\n    steps:\n      - run: echo', anchor: 'image:' },
    { name: 'conda environment', file: 'environment.yml', text: 'dependencies:\n@@  - numpy', anchor: 'numpy' },
  ];

  it.each(cases)('$name', async ({ file, text, anchor }) => {
    const lines = text.split('\n');
    const k = lines.findIndex((l) => l.startsWith('@@'));
    lines[k] = lines[k]!.slice(2);
    const before = await run({ [file]: lines.join('\n') + '\n' });
    const target = before.filter((f) => f.line === k + 1);
    expect(target).toHaveLength(1);
    const fix = fixOf(target[0]!.message);
    const original = lines[k]!;
    const at = anchor ? original.indexOf(anchor) : original.length - original.trimStart().length;
    lines[k] = original.slice(0, at) + fix;
    const after = await run({ [file]: lines.join('\n') + '\n' });
    expect(after.filter((f) => f.line === k + 1 && f.code === target[0]!.code)).toEqual([]);
    // A fix that broke the file would pass vacuously.
    expect(after.filter((f) => f.code === 'malformed' || f.code === 'unreadable')).toEqual([]);
  });

  it('does not report an exec-form argument pip would reject (quotes inside the JSON string)', async () => {
    expect(await run({ Dockerfile: `${BASE}\nRUN ["pip", "install", "'some-ther==1.2.3'"]\n` })).toEqual([]);
  });
});

describe('12, 13. CODEOWNERS', () => {
  it('/* owns only files at the root, so it does not decide data/**', () => {
    const co = parseCodeowners('data/** @data-team\n/* @root-team\ndocs/* @docs\n');
    expect(co.ownerOf('README.md')?.owners).toEqual(['@root-team']);
    expect(co.ownerOf('data/train/part-0.parquet')?.owners).toEqual(['@data-team']);
    expect(co.ownerOf('docs/a.md')?.owners).toEqual(['@docs']);
    expect(co.ownerOf('docs/deep/a.md')).toBeUndefined();
    expect(co.ownerOf('src/x.py')).toBeUndefined();
  });

  it('accepts backslash escapes and matches them literally; an unescaped [ ] is still refused', () => {
    const co = parseCodeowners('f\\*o @a\nf\\?o @b\n/api/\\[param\\]/ @c\n\\#notes @d\n/x/[ab].txt @e\n');
    expect(co.problems.map((p) => p.line)).toEqual([5]);
    expect(co.ownerOf('f*o')?.owners).toEqual(['@a']);
    expect(co.ownerOf('fxo')).toBeUndefined();
    expect(co.ownerOf('f?o')?.owners).toEqual(['@b']);
    expect(co.ownerOf('fyo')).toBeUndefined();
    expect(co.ownerOf('api/[param]/route.ts')?.owners).toEqual(['@c']);
    expect(co.ownerOf('api/p/route.ts')).toBeUndefined();
    expect(co.ownerOf('#notes')?.owners).toEqual(['@d']);
  });
});
