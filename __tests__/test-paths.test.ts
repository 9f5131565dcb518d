// `paths.tests` (issue 12): which files are test code, how layers and locks
// combine it, how a broken setting is reported, and what the engine does with it.
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { silentLogger } from '../src/core/logger.js';
import { evaluate } from '../src/engine/evaluate.js';
import { loadPolicy } from '../src/policies/load.js';
import { DEFAULT_TEST_GLOBS } from '../src/policies/merge.js';
import type { Report } from '../src/report/types.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';

const now = new Date('2026-11-28T12:00:00Z');
const ORG = 'acme/ml-policies/policies/ml.yml@v3.2.0';
const ROOT = '.github/mlgate.yml';
const load = (local: Record<string, string>, remote: Record<string, string> = {}) => loadPolicy({ provider: memoryProvider(local, remote), rules: RULES, now });

describe('paths.tests in the policy', () => {
  it('defaults to the usual pytest and unittest layouts', async () => {
    const policy = await load({ [ROOT]: 'version: 1\n' });
    expect(policy.testsFor('model-hub-pinning')).toEqual([...DEFAULT_TEST_GLOBS]);
    expect(DEFAULT_TEST_GLOBS).toEqual(['tests/**', 'test/**', '**/tests/**', '**/test/**', '**/test_*.py', '**/*_test.py', '**/conftest.py']);
  });

  it('a layer that sets it replaces the defaults; layers add up; [] turns test contexts off', async () => {
    expect((await load({ [ROOT]: 'version: 1\npaths:\n  tests: ["qa/**"]\n' })).testsFor('unsafe-deserialization')).toEqual(['qa/**']);
    const layered = await load({ [ROOT]: 'version: 1\nextends: [./ci/base.yml]\npaths:\n  tests: ["qa/**"]\n', 'ci/base.yml': 'version: 1\npaths:\n  tests: ["spec/**"]\n' });
    expect(layered.testsFor('model-hub-pinning')).toEqual(['spec/**', 'qa/**']);
    expect((await load({ [ROOT]: 'version: 1\npaths:\n  tests: []\n' })).testsFor('model-hub-pinning')).toEqual([]);
  });

  it('a locked rule only honours the test globs of the policies that lock it', async () => {
    const policy = await load(
      { [ROOT]: `version: 1\nextends: [${ORG}]\npaths:\n  tests: ["**"]\n` },
      { [ORG]: 'version: 1\nrules:\n  model-hub-pinning:\n    level: error\n    locked: true\n' },
    );
    expect(policy.testsFor('model-hub-pinning')).toEqual([...DEFAULT_TEST_GLOBS]);
    expect(policy.testsFor('unsafe-deserialization')).toEqual(['**']);
  });

  it.each([
    ['a misspelt key', 'version: 1\npaths:\n  test: ["qa/**"]\n', /^\.github\/mlgate\.yml:3:3: paths\.test: unknown key \(did you mean "tests"\?\)/],
    ['an invalid glob', 'version: 1\npaths:\n  tests: ["../qa/**"]\n', /^\.github\/mlgate\.yml:3:12: paths\.tests\[0\]: invalid glob/],
    ['not a list', 'version: 1\npaths:\n  tests: qa\n', /^\.github\/mlgate\.yml:3:10: paths\.tests: must be a list/],
    [
      'an unknown sub-code in test-levels',
      'version: 1\nrules:\n  model-hub-pinning:\n    test-levels:\n      unpined: info\n',
      /^\.github\/mlgate\.yml:5:7: rules\.model-hub-pinning\.test-levels\.unpined: unknown key \(did you mean "unpinned"\?\)/,
    ],
    ['a bad level in test-levels', 'version: 1\nrules:\n  unsafe-deserialization:\n    test-levels:\n      torch-load: low\n', /test-levels\.torch-load: must be one of: off, info, warning, error/],
    ['an unsafe-loaders entry that is not a qualified name', 'version: 1\nrules:\n  unsafe-deserialization:\n    unsafe-loaders: ["torch_load"]\n', /unsafe-loaders\[0\]: does not match/],
  ])('%s is a located configuration error', async (_name, policy, says) => {
    const errors = await configError(() => load({ [ROOT]: policy }));
    expect(errors.join('\n')).toMatch(says);
  });
});

describe('through the engine', () => {
  const HUB = 'from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained("acme/bert")\n';
  const run = async (policy: string): Promise<Report> =>
    evaluate({ root: await makeRepo({ 'tests/test_model.py': HUB, 'qa/check_model.py': HUB, 'src/model.py': HUB }), provider: memoryProvider({ [ROOT]: policy }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
  const hubLevels = (r: Report) => r.findings.filter((f) => f.rule === 'model-hub-pinning').map((f) => `${f.level}@${f.path}`).sort();

  it('hub downloads in default test paths are info, library code keeps its level', async () => {
    expect(hubLevels(await run('version: 1\nrules:\n  model-hub-pinning: {level: error}\n'))).toEqual(['error@qa/check_model.py', 'error@src/model.py', 'info@tests/test_model.py']);
  });

  it('follows the policy globs and the rule test-levels', async () => {
    expect(hubLevels(await run('version: 1\npaths:\n  tests: ["qa/**"]\nrules:\n  model-hub-pinning: {level: error}\n'))).toEqual(['error@src/model.py', 'error@tests/test_model.py', 'info@qa/check_model.py']);
    expect(hubLevels(await run('version: 1\nrules:\n  model-hub-pinning:\n    level: error\n    test-levels: {unpinned: warning}\n'))).toEqual([
      'error@qa/check_model.py',
      'error@src/model.py',
      'warning@tests/test_model.py',
    ]);
  });
});
