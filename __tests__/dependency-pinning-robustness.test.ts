import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const INVALID_UTF8 = Buffer.from([0x74, 0x6f, 0x72, 0x63, 0x68, 0x0a, 0xff, 0xfe, 0xc3, 0x28, 0x0a]);

describe('malformed files give a finding on the file, never a crash', () => {
  const table: [string, Record<string, string | Uint8Array>, string[]][] = [
    ['invalid UTF-8 requirements', { 'requirements.txt': INVALID_UTF8 }, ['malformed@requirements.txt']],
    ['invalid UTF-8 Dockerfile', { Dockerfile: INVALID_UTF8 }, ['malformed@Dockerfile']],
    ['invalid UTF-8 script', { 'run.sh': INVALID_UTF8 }, ['malformed@run.sh']],
    ['20 MB single-line requirements', { 'requirements.txt': `torch==${'1'.repeat(20 * 1024 * 1024)}` }, ['budget-exceeded@requirements.txt']],
    ['20 MB single-line workflow', { '.github/workflows/x.yml': 'a'.repeat(20 * 1024 * 1024) }, ['budget-exceeded@.github/workflows/x.yml']],
    ['broken TOML', { 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["torch",\n' }, ['malformed@pyproject.toml:4']],
    ['broken Pipfile', { Pipfile: '[packages\ntorch = "*"\n' }, ['malformed@Pipfile:1']],
    ['broken workflow YAML', { '.github/workflows/ci.yml': 'on: push\njobs:\n  a: [\n' }, ['malformed@.github/workflows/ci.yml:4']],
    ['duplicate workflow keys', { '.github/workflows/ci.yml': 'on: push\non: pull_request\n' }, ['malformed@.github/workflows/ci.yml:2']],
    ['broken environment YAML', { 'environment.yml': 'dependencies:\n  - numpy\n  bad: [\n' }, ['malformed@environment.yml:3']],
    ['broken notebook JSON', { 'nb.ipynb': '{"cells": [ {"cell_type": "code", "source": "!pip install x"' }, ['malformed@nb.ipynb:1']],
    ['notebook that is not an object', { 'nb.ipynb': '[1, 2]' }, ['malformed@nb.ipynb:1']],
    ['broken Pipfile.lock', { Pipfile: '[packages]\ntorch = "*"\n', 'Pipfile.lock': '{not json' }, ['malformed@Pipfile.lock']],
    ['invalid requirement line', { 'requirements.txt': 'torch==2.3.1\ntorch 2.0\n' }, ['malformed@requirements.txt:2']],
  ];
  it.each(table)('%s', async (_name, files, want) => {
    const findings = await runRuleOn(dependencyPinning, files);
    expect(summarise(findings)).toEqual(want);
  });

  it('handles a 900 KB single-line script and a 200 KB Dockerfile line within the budget, and refuses a 3 MB Dockerfile', async () => {
    const started = Date.now();
    const findings = await runRuleOn(dependencyPinning, {
      'big.sh': `pip install ${'a'.repeat(900 * 1024)}`,
      'huge.sh': `pip install ${'a'.repeat(3 * 1024 * 1024)}`,
      'a/Dockerfile': `FROM ${'b'.repeat(200 * 1024)}\n`,
      'b/Dockerfile': `FROM ${'b'.repeat(3 * 1024 * 1024)}\n`,
    });
    expect(summarise(findings)).toEqual(['budget-exceeded@b/Dockerfile', 'budget-exceeded@huge.sh', 'unpinned-image@a/Dockerfile:1', 'unpinned-install@big.sh:1']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('turns a run out of time into a finding', async () => {
    const findings = await runRuleOn(dependencyPinning, { 'a.sh': 'pip install x\n'.repeat(200_000) }, { budget: { ms: 1 } });
    expect(findings.some((f) => f.code === 'budget-exceeded')).toBe(true);
  });
});

describe('changed mode', () => {
  const repo = {
    'requirements.txt': 'torch\n',
    Dockerfile: 'FROM ubuntu\n',
    'pyproject.toml': '[project]\nname = "x"\ndependencies = ["torch"]\n',
    'uv.lock': '[[package]]\nname = "torch"\nversion = "2.3.1"\n',
    'environment.yml': 'dependencies:\n  - numpy\n',
    'conda-lock.yml': 'version: 1\n',
  };

  it('checks only the changed files', async () => {
    expect(summarise(await runRuleOn(dependencyPinning, repo, { changed: ['Dockerfile'] }))).toEqual(['unpinned-image@Dockerfile:1']);
    expect(summarise(await runRuleOn(dependencyPinning, repo, { changed: ['README.md'] }))).toEqual([]);
  });

  it('checks an unchanged included file through the changed file that includes it, and the reverse', async () => {
    const files = { 'requirements/prod.txt': '-r base.txt\n', 'requirements/base.txt': 'torch\n' };
    expect(summarise(await runRuleOn(dependencyPinning, files, { changed: ['requirements/base.txt'] }))).toEqual(['unpinned-requirement@requirements/base.txt:1']);
    expect(summarise(await runRuleOn(dependencyPinning, files, { changed: ['requirements/prod.txt'] }))).toEqual([]);
  });

  it('warns when pyproject.toml or environment.yml changes without its lock', async () => {
    const findings = await runRuleOn(dependencyPinning, repo, { changed: ['pyproject.toml', 'environment.yml'] });
    expect(summarise(findings)).toEqual(['stale-lockfile@environment.yml:2', 'stale-lockfile@pyproject.toml:3']);
    expect(findings.every((f) => f.maxLevel === 'warning')).toBe(true);
    expect(await runRuleOn(dependencyPinning, repo, { changed: ['pyproject.toml', 'uv.lock', 'environment.yml', 'conda-lock.yml'] })).toEqual([]);
  });

  it('reports a lock deleted in the change, and a lock changed without its pyproject', async () => {
    const { 'uv.lock': _lock, ...withoutLock } = repo;
    expect(summarise(await runRuleOn(dependencyPinning, withoutLock, { changed: { deleted: ['uv.lock'] } }))).toEqual(['missing-lockfile@pyproject.toml:3']);
    const staleLock = { ...repo, 'uv.lock': '[[package]]\nname = "numpy"\nversion = "1.26.4"\n' };
    expect(summarise(await runRuleOn(dependencyPinning, staleLock, { changed: ['uv.lock'] }))).toEqual(['stale-lockfile@pyproject.toml:3']);
  });
});
