import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import type { Rule } from '../src/checks/rule.js';
import { loadPolicy } from '../src/policies/load.js';
import { configError, memoryProvider } from './helpers/policy.js';

const now = new Date('2026-11-28T12:00:00Z');
const load = (text: string, rules: readonly Rule[] = RULES) => loadPolicy({ provider: memoryProvider({ '.github/mlgate.yml': text }), rules, now });
const SIGNER_OK = 'identity: https://github.com/acme/train/.github/workflows/release.yml@refs/heads/main\n        issuer: https://token.actions.githubusercontent.com\n';

describe('policy errors say what was probably meant', () => {
  it.each([
    ['a top-level key', 'version: 1\nrulez: {}\n', '.github/mlgate.yml:2:1: rulez: unknown key (did you mean "rules"?)'],
    ['a top-level key, by prefix', 'version: 1\nexception: []\n', '.github/mlgate.yml:2:1: exception: unknown key (did you mean "exceptions"?)'],
    ['a rule parameter', 'version: 1\nrules:\n  threat-model:\n    max-age: 3\n', '.github/mlgate.yml:4:5: rules.threat-model.max-age: unknown key (did you mean "max-age-days"?)'],
    ['a key every rule takes', 'version: 1\nrules:\n  threat-model:\n    enforce_from: 2027-01-01\n', '.github/mlgate.yml:4:5: rules.threat-model.enforce_from: unknown key (did you mean "enforce-from"?)'],
    ['code-levels', 'version: 1\nrules:\n  threat-model:\n    code-level: {}\n', '.github/mlgate.yml:4:5: rules.threat-model.code-level: unknown key (did you mean "code-levels"?)'],
    ['a key under paths', 'version: 1\npaths:\n  exclud: ["x/**"]\n', '.github/mlgate.yml:3:3: paths.exclud: unknown key (did you mean "exclude"?)'],
    [
      'a key of an exception',
      'version: 1\nexceptions:\n  - rule: threat-model\n    paths: ["x"]\n    reason: r\n    owner: "@a"\n    expire: 2027-01-01\n',
      '.github/mlgate.yml:7:5: exceptions[0].expire: unknown key (did you mean "expires"?)',
    ],
    ['a rule id', 'version: 1\nrules:\n  model-sigining:\n    level: error\n', '.github/mlgate.yml:3:3: rules.model-sigining: unknown rule id (did you mean "model-signing"?)'],
    ['a level', 'version: 1\nrules:\n  threat-model:\n    level: warn\n', '.github/mlgate.yml:4:12: rules.threat-model.level: must be one of: off, info, warning, error (did you mean "warning"?)'],
    [
      'a level in code-levels',
      'version: 1\nrules:\n  model-signing:\n    code-levels:\n      unsigned: eror\n',
      '.github/mlgate.yml:5:17: rules.model-signing.code-levels.unsigned: must be one of: off, info, warning, error (did you mean "error"?)',
    ],
    ['a built-in set', 'version: 1\nextends: [mlgate:recomended]\n', '.github/mlgate.yml:2:11: extends[0]: unknown built-in policy "mlgate:recomended" (did you mean "mlgate:recommended"?)'],
    ['a built-in set written as a file', 'version: 1\nextends: [recommended]\n', '.github/mlgate.yml:2:11: extends[0]: recommended does not exist in this repository (did you mean "mlgate:recommended"?)'],
    [
      'the rule of an exception',
      'version: 1\nexceptions:\n  - rule: threat-modle\n    paths: ["x"]\n    reason: r\n    owner: "@a"\n    expires: 2027-01-01\n',
      '.github/mlgate.yml:3:11: exceptions[0].rule: unknown rule id "threat-modle" (did you mean "threat-model"?)',
    ],
    [
      'a signer method',
      `version: 1\nrules:\n  model-signing:\n    signers:\n      - method: sigstor\n        ${SIGNER_OK}`,
      '.github/mlgate.yml:5:9: rules.model-signing.signers[0]: unknown method "sigstor" (did you mean "sigstore"?)',
    ],
  ])('%s', async (_name, policy, want) => {
    const errors = await configError(() => load(policy));
    expect(errors, errors.join('\n')).toContain(want);
  });

  it.each([
    ['a key', 'version: 1\nbanana: 1\n', /^\.github\/mlgate\.yml:2:1: banana: unknown key \(expected one of: version, extends, paths, max-exception-days, inline-exceptions, rules, exceptions, baseline\)$/],
    ['a rule id', 'version: 1\nrules:\n  banana: {}\n', /: rules\.banana: unknown rule id \(known rules: dataset-provenance, model-signing, .*artifact-ownership\)$/],
    ['a level', 'version: 1\nrules:\n  threat-model:\n    level: fatal\n', /: rules\.threat-model\.level: must be one of: off, info, warning, error$/],
    ['a built-in set', 'version: 1\nextends: [mlgate:lenient]\n', /: extends\[0\]: unknown built-in policy "mlgate:lenient" \(known: mlgate:recommended, mlgate:strict\)$/],
    ['a local extends', 'version: 1\nextends: [./ci/base.yml]\n', /: extends\[0\]: ci\/base\.yml does not exist in this repository$/],
  ])('lists the choices when nothing is close: %s', async (_name, policy, want) => {
    const errors = await configError(() => load(policy));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(want);
    expect(errors[0]).not.toContain('did you mean');
  });
});

describe('code-levels names only codes the rule reports, when the rule lists them', () => {
  const listed = RULES.map((r) => (r.id === 'model-signing' ? { ...r, codes: ['unsigned', 'invalid-signature', 'untrusted-signer', 'digest-mismatch'] } : r));
  const policy = (codes: string) => `version: 1\nrules:\n  model-signing:\n    code-levels:\n${codes}`;

  it('offers the closest code for a typo', async () => {
    const errors = await configError(() => load(policy('      unsigned: warning\n      unsinged: warning\n'), listed));
    expect(errors).toEqual(['.github/mlgate.yml:6:7: rules.model-signing.code-levels.unsinged: model-signing reports no finding with this code, so the level would never apply (did you mean "unsigned"?)']);
  });

  it('lists the codes when nothing is close, sorted in with the schema errors', async () => {
    const errors = await configError(() => load(`${policy('      tampered: info\n')}    level: loud\n`, listed));
    expect(errors).toEqual([
      '.github/mlgate.yml:5:7: rules.model-signing.code-levels.tampered: model-signing reports no finding with this code, so the level would never apply (its codes: unsigned, invalid-signature, untrusted-signer, digest-mismatch)',
      '.github/mlgate.yml:6:12: rules.model-signing.level: must be one of: off, info, warning, error',
    ]);
  });

  it.each(['model-signing/unsigned', 'Unsigned'])('a code written as %s is one error, on that key, with the code it meant', async (key) => {
    for (const rules of [listed, RULES]) {
      const errors = await configError(() => load(policy(`      ${key}: warning\n`), rules));
      expect(errors).toEqual([`.github/mlgate.yml:5:7: rules.model-signing.code-levels.${key}: is not a sub-code: write the code alone, in lowercase, without the rule's prefix (did you mean "unsigned"?)`]);
    }
  });

  it('accepts the codes it lists, and any code of a rule that lists none', async () => {
    await expect(load(policy('      digest-mismatch: error\n'), listed)).resolves.toBeDefined();
    await expect(load(policy('      anything-at-all: error\n'))).resolves.toBeDefined();
  });
});
