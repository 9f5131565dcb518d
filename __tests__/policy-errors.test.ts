import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { loadPolicy } from '../src/policies/load.js';
import { configError, memoryProvider } from './helpers/policy.js';

const now = new Date('2026-11-28T12:00:00Z');
const load = (text: string, extra: Record<string, string> = {}) =>
  loadPolicy({ provider: memoryProvider({ '.github/mlgate.yml': text, ...extra }), rules: RULES, now });

describe('policy errors are located as file:line:col key: message', () => {
  const cases: { name: string; policy: string; expect: string }[] = [
    {
      name: 'unknown top-level key',
      policy: 'version: 1\nrulez: {}\n',
      expect: '.github/mlgate.yml:2:1: rulez: unknown key',
    },
    {
      name: 'unknown key inside a rule',
      policy: 'version: 1\nrules:\n  threat-model:\n    level: error\n    max-age: 3\n',
      expect: '.github/mlgate.yml:5:5: rules.threat-model.max-age: unknown key',
    },
    {
      name: 'duplicate key',
      policy: 'version: 1\nrules:\n  threat-model:\n    level: error\n    level: warning\n',
      expect: '.github/mlgate.yml:5:5: invalid YAML: duplicated mapping key',
    },
    {
      name: 'wrong type',
      policy: 'version: 1\nrules:\n  threat-model:\n    sections: Assets\n',
      expect: '.github/mlgate.yml:4:15: rules.threat-model.sections: must be a list',
    },
    {
      name: 'wrong level',
      policy: 'version: 1\nrules:\n  threat-model:\n    level: fatal\n',
      expect: '.github/mlgate.yml:4:12: rules.threat-model.level: must be one of: off, info, warning, error',
    },
    {
      name: 'unknown rule id',
      policy: 'version: 1\nrules:\n  model-sigining:\n    level: error\n',
      expect: '.github/mlgate.yml:3:3: rules.model-sigining: unknown rule id',
    },
    {
      name: 'invalid glob',
      policy: 'version: 1\npaths:\n  exclude: ["../outside/**"]\n',
      expect: '.github/mlgate.yml:3:14: paths.exclude[0]: invalid glob: must not contain ..',
    },
    {
      name: 'invalid date',
      policy: 'version: 1\nrules:\n  threat-model:\n    enforce-from: 2027-02-30\n',
      expect: '.github/mlgate.yml:4:19: rules.threat-model.enforce-from: must be a valid date YYYY-MM-DD',
    },
    {
      name: 'exception without reason',
      policy: 'version: 1\nexceptions:\n  - rule: threat-model\n    paths: ["x"]\n    owner: "@a"\n    expires: 2027-01-01\n',
      expect: '.github/mlgate.yml:3:5: exceptions[0].reason: is required',
    },
    {
      name: 'exception without owner and expires',
      policy: 'version: 1\nexceptions:\n  - rule: threat-model\n    paths: ["x"]\n    reason: legacy\n',
      expect: '.github/mlgate.yml:3:5: exceptions[0].expires: is required',
    },
    {
      name: 'exception beyond max-exception-days',
      policy: 'version: 1\nmax-exception-days: 30\nexceptions:\n  - rule: threat-model\n    paths: ["x"]\n    reason: legacy\n    owner: "@a"\n    expires: 2027-06-01\n',
      expect: '.github/mlgate.yml:8:14: exceptions[0].expires: expires 2027-06-01, more than 30 days ahead (max-exception-days); the latest allowed date is 2026-12-28',
    },
    {
      name: 'exception for an unknown rule',
      policy: 'version: 1\nexceptions:\n  - rule: nope\n    paths: ["x"]\n    reason: r\n    owner: "@a"\n    expires: 2027-01-01\n',
      expect: '.github/mlgate.yml:3:11: exceptions[0].rule: unknown rule id "nope"',
    },
    {
      name: 'missing version',
      policy: 'rules: {}\n',
      expect: '.github/mlgate.yml:1:1: version: is required',
    },
    {
      name: 'not a mapping',
      policy: '- a\n- b\n',
      expect: '.github/mlgate.yml:1:1: a policy must be a YAML mapping',
    },
    {
      name: 'unknown built-in',
      policy: 'version: 1\nextends: [mlgate:lenient]\n',
      expect: '.github/mlgate.yml:2:11: extends[0]: unknown built-in policy "mlgate:lenient"',
    },
    {
      name: 'missing local extends',
      policy: 'version: 1\nextends:\n  - ./policies/none.yml\n',
      expect: '.github/mlgate.yml:3:5: extends[0]: policies/none.yml does not exist in this repository',
    },
  ];
  it.each(cases)('$name', async ({ policy, expect: want }) => {
    const errors = await configError(() => load(policy));
    expect(errors.some((e) => e.startsWith(want)), `got:\n${errors.join('\n')}`).toBe(true);
  });

  it('reports every problem of a file, sorted by position', async () => {
    const errors = await configError(() => load('version: 2\nrules:\n  threat-model:\n    level: loud\n    bogus: 1\n'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:1:10: version: must be 1/);
    expect(errors[1]).toMatch(/:4:12: rules\.threat-model\.level/);
    expect(errors[2]).toMatch(/:5:5: rules\.threat-model\.bogus: unknown key/);
  });

  it('rejects a YAML alias bomb quickly', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    const errors = await configError(() => load(`version: 1\n${levels.join('\n')}\n`));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:\d+:\d+: invalid YAML: YAML expands to more than/);
  });

  it('rejects a 5 MB policy before parsing it', async () => {
    const big = `version: 1\n# ${'x'.repeat(5 * 1024 * 1024)}\n`;
    const started = Date.now();
    const errors = await configError(() => load(big));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:1:1: the policy is \d+ bytes, over the 262144-byte limit/);
  });

  it('detects an extends cycle', async () => {
    const errors = await configError(() =>
      load('version: 1\nextends: [./a.yml]\n', { 'a.yml': 'version: 1\nextends: [./b.yml]\n', 'b.yml': 'version: 1\nextends: [./a.yml]\n' }),
    );
    expect(errors[0]).toMatch(/^b\.yml:2:11: extends\[0\]: extends cycle: \.github\/mlgate\.yml → a\.yml → b\.yml → a\.yml/);
  });
});
