import { describe, expect, it } from 'vitest';
import { artifactOwnership, patternForGlob } from '../src/checks/artifact-ownership.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const SEC = { 'required-owners': ['@acme/ml-security'] };
const repo = (codeowners: string | undefined, extra: Record<string, string> = {}): Record<string, string> => ({
  ...(codeowners === undefined ? {} : { '.github/CODEOWNERS': codeowners }),
  '.github/mlgate.yml': 'version: 1\n',
  'data/train.csv': 'a\n',
  'data/raw/part-0.parquet': 'PAR1',
  'models/clf/model.safetensors': 'w',
  'models/clf/config.json': '{}',
  'THREAT_MODEL.md': '# Threat model\n',
  'src/app.py': 'print(1)\n',
  ...extra,
});
const OWNED = '* @acme/dev\n/data/ @acme/ml-security\n/models/ @acme/ml-security @acme/ml-platform\n/.github/ @ACME/ML-Security\n/THREAT_MODEL.md @acme/ml-security\n';

describe('artifact-ownership', () => {
  const cases: { name: string; codeowners?: string; params?: Record<string, unknown>; extra?: Record<string, string>; expect: string[] }[] = [
    { name: 'everything protected is owned by the security team (owner case-insensitive)', codeowners: OWNED, params: SEC, expect: [] },
    { name: 'no CODEOWNERS at all', params: SEC, expect: ['no-codeowners@'] },
    {
      name: 'a later pattern drops the required owner',
      codeowners: `${OWNED}*.csv @acme/analysts\n`,
      params: SEC,
      expect: ['wrong-owner@.github/CODEOWNERS:6'],
    },
    {
      name: 'a later pattern without owners un-assigns',
      codeowners: `${OWNED}/data/raw/\n`,
      params: SEC,
      expect: ['unowned@.github/CODEOWNERS:6'],
    },
    {
      name: 'nothing matches the model or the threat model',
      codeowners: '/data/ @acme/ml-security\n/.github/ @acme/ml-security\n',
      params: SEC,
      expect: ['unowned@.github/CODEOWNERS', 'unowned@.github/CODEOWNERS'],
    },
    {
      name: 'without required owners any owner will do',
      codeowners: '* @acme/dev\n',
      expect: [],
    },
    {
      name: 'without required owners an un-assigning line is still unowned',
      codeowners: '* @acme/dev\n/models/\n',
      expect: ['unowned@.github/CODEOWNERS:2'],
    },
    {
      name: 'negation and ranges are invalid lines, and do not protect anything',
      codeowners: `${OWNED}!/data/raw/ @acme/ml-security\n/data/[ab].csv @x\n`,
      params: SEC,
      expect: ['invalid-line@.github/CODEOWNERS:6', 'invalid-line@.github/CODEOWNERS:7'],
    },
    {
      name: 'a configured protected list replaces the defaults',
      codeowners: '/data/ @acme/ml-security\n',
      params: { ...SEC, protected: ['data/**'] },
      expect: [],
    },
    {
      name: 'a configured protected glob nobody owns',
      codeowners: '/data/ @acme/ml-security\n',
      params: { ...SEC, protected: ['src/**'] },
      expect: ['unowned@.github/CODEOWNERS'],
    },
  ];
  it.each(cases)('$name', async (c) => {
    const findings = await runRuleOn(artifactOwnership, repo(c.codeowners, c.extra), { params: c.params });
    expect(summarise(findings)).toEqual(c.expect.sort());
  });

  it('uses the first CODEOWNERS in GitHub order: .github/, root, docs/', async () => {
    const files = { ...repo(undefined), CODEOWNERS: '* @acme/dev\n', 'docs/CODEOWNERS': OWNED };
    const findings = await runRuleOn(artifactOwnership, files, { params: SEC });
    expect(findings.map((f) => f.code)).toContain('wrong-owner');
    expect(new Set(findings.map((f) => f.path))).toEqual(new Set(['CODEOWNERS']));
  });

  it('groups thousands of data files into one finding per deciding line', async () => {
    const extra: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) extra[`data/shards/s${i}.jsonl`] = '{}\n';
    const findings = await runRuleOn(artifactOwnership, repo(`${OWNED}/data/shards/ @acme/data\n`, extra), { params: SEC });
    expect(summarise(findings)).toEqual(['wrong-owner@.github/CODEOWNERS:6']);
    expect(findings[0]!.message).toContain('2000 protected files');
    expect(findings[0]!.message).toContain('/data/ @acme/ml-security');
  });

  it('points at the policy path it is given', async () => {
    const findings = await runRuleOn(artifactOwnership, repo('/data/ @acme/ml-security\n/models/ @acme/ml-security\n/THREAT_MODEL.md @acme/ml-security\n/.github/CODEOWNERS @acme/ml-security\n', { 'ci/policy.yml': 'version: 1\n' }), {
      params: SEC,
      policyPath: 'ci/policy.yml',
    });
    expect(summarise(findings)).toEqual(['unowned@.github/CODEOWNERS']);
    expect(findings[0]!.message).toContain('ci/policy.yml');
  });

  describe('changed mode', () => {
    const co = `${OWNED}*.csv @acme/analysts\n`;
    it('checks only the protected files the change touched', async () => {
      expect(summarise(await runRuleOn(artifactOwnership, repo(co), { params: SEC, changed: ['src/app.py'] }))).toEqual([]);
      expect(summarise(await runRuleOn(artifactOwnership, repo(co), { params: SEC, changed: ['data/train.csv'] }))).toEqual(['wrong-owner@.github/CODEOWNERS:6']);
    });
    it('re-checks everything when CODEOWNERS changes', async () => {
      const f = await runRuleOn(artifactOwnership, repo(co), { params: SEC, changed: ['.github/CODEOWNERS'] });
      expect(summarise(f)).toEqual(['wrong-owner@.github/CODEOWNERS:6']);
    });
  });

  it('reports a CODEOWNERS of 3 MB or more, which GitHub ignores', async () => {
    const big = `* @acme/ml-security\n${'# padding padding padding padding\n'.repeat(100_000)}`;
    const f = await runRuleOn(artifactOwnership, repo(big), { params: SEC });
    expect(summarise(f)).toEqual(['no-codeowners@.github/CODEOWNERS']);
  });

  it('reports a binary CODEOWNERS on the file, not as a crash', async () => {
    const f = await runRuleOn(artifactOwnership, repo('\0\0\0* @x'), { params: SEC });
    expect(summarise(f)).toEqual(['invalid-line@.github/CODEOWNERS']);
  });

  it.each([
    ['data/**', '/data/'],
    ['**/*.csv', '*.csv'],
    ['THREAT_MODEL.md', '/THREAT_MODEL.md'],
    ['docs/threat-model*.md', '/docs/threat-model*.md'],
  ])('suggests a CODEOWNERS pattern for %s', (glob, pattern) => {
    expect(patternForGlob(glob)).toBe(pattern);
  });
});
