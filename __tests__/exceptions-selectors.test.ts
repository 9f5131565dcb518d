import { beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../src/checks/rule.js';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import type { Finding } from '../src/core/types.js';
import type { Report } from '../src/report/types.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';
import { callPickle } from './pickle-fixtures.js';

const now = new Date('2026-11-28T12:00:00Z');
const ORG = 'acme/policies/ml.yml@v1.0.0';

/**
 * A legacy tree with a malicious pickle next to an old checkpoint whose class
 * is merely unknown, a pickle.load in code, and no threat model or CODEOWNERS
 * (findings on the repository as a whole).
 */
let root: string;
beforeAll(async () => {
  root = await makeRepo({
    'models/legacy/evil.pkl': callPickle('posix', 'system', 'echo'),
    'models/legacy/old.pkl': callPickle('mylib.nets', 'Net'),
    'train.py': 'import pickle\nx = pickle.load(open("a", "rb"))\n',
  });
});

const exception = (lines: string) =>
  `  - ${lines.trim().split('\n').join('\n    ')}\n    reason: legacy checkpoints, migration tracked in ML-12\n    owner: "@acme/ml"\n    expires: 2027-01-31\n`;

async function run(exceptions: string[], opts: { org?: string; head?: string } = {}): Promise<Report> {
  const extendsOrg = `extends:\n  - mlgate:recommended\n${opts.org ? `  - ${ORG}\n` : ''}`;
  const policy = `version: 1\n${extendsOrg}${opts.head ?? ''}${exceptions.length ? `exceptions:\n${exceptions.join('')}` : ''}`;
  return evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy }, opts.org ? { [ORG]: opts.org } : {}), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
}

const waived = (r: Report) => r.findings.filter((f) => f.waived && f.rule !== 'policy').map((f) => f.code).sort();
const byCode = (r: Report, code: string): Finding => r.findings.find((f) => f.code === code)!;

describe('selectors: a finding is waived only when every given selector matches', () => {
  it('a path-only exception covers the old checkpoint but never the malicious pickle beside it', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["models/legacy/**"]')]);
    expect(waived(r)).toEqual(['model-file-safety/unknown-global']);
    expect(byCode(r, 'model-file-safety/dangerous-global').waived).toBeNull();
    expect(r.conclusion).toBe('failure');
  });

  it('codes: only findings with one of the named sub-codes', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["**"]\ncodes: [unknown-global]')]);
    expect(waived(r)).toEqual(['model-file-safety/unknown-global']);
  });

  it('naming a tampering code waives it, with the owner, reason and expiry on the finding', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["models/legacy/evil.pkl"]\ncodes: [dangerous-global]')]);
    expect(waived(r)).toEqual(['model-file-safety/dangerous-global']);
    expect(byCode(r, 'model-file-safety/dangerous-global').waived).toEqual({ reason: 'legacy checkpoints, migration tracked in ML-12', owner: '@acme/ml', expires: '2027-01-31' });
    expect(r.exceptions).toEqual([expect.objectContaining({ rule: 'model-file-safety', codes: ['dangerous-global'], matched: 1 })]);
  });

  it('fingerprints: exactly the findings named, whatever else shares the rule and path', async () => {
    const base = await run([]);
    const fp = byCode(base, 'unsafe-deserialization/pickle-load').fingerprint;
    const r = await run([exception(`rule: unsafe-deserialization\npaths: ["**"]\nfingerprints: ["${fp}"]`)]);
    expect(waived(r)).toEqual(['unsafe-deserialization/pickle-load']);
    expect(r.exceptions[0]).toEqual(expect.objectContaining({ fingerprints: 1, matched: 1 }));
    // The fingerprint of another finding of the same rule waives nothing here.
    const other = await run([exception(`rule: unsafe-deserialization\npaths: ["**"]\nfingerprints: ["${'0'.repeat(32)}"]`)]);
    expect(waived(other)).toEqual([]);
    expect(other.findings.map((f) => f.code)).toContain('policy/unused-exception');
  });

  it('a fingerprint with paths that do not cover its file, or with another code, waives nothing', async () => {
    const base = await run([]);
    const fp = byCode(base, 'model-file-safety/unknown-global').fingerprint;
    const elsewhere = await run([exception(`rule: model-file-safety\npaths: ["models/other/**"]\nfingerprints: ["${fp}"]`)]);
    expect(waived(elsewhere)).toEqual([]);
    const wrongCode = await run([exception(`rule: model-file-safety\npaths: ["**"]\ncodes: [malformed]\nfingerprints: ["${fp}"]`)]);
    expect(waived(wrongCode)).toEqual([]);
    const all = await run([exception(`rule: model-file-safety\npaths: ["models/**"]\ncodes: [unknown-global]\nfingerprints: ["${fp}"]`)]);
    expect(waived(all)).toEqual(['model-file-safety/unknown-global']);
  });

  it('a fingerprint alone may name a tampering finding of an unlocked rule', async () => {
    const base = await run([]);
    const fp = byCode(base, 'model-file-safety/dangerous-global').fingerprint;
    const r = await run([exception(`rule: model-file-safety\npaths: ["**"]\nfingerprints: ["${fp}"]`)]);
    expect(waived(r)).toEqual(['model-file-safety/dangerous-global']);
  });
});

describe('rule/code shorthand', () => {
  it('rule: model-signing/unsigned is the rule with codes: [unsigned]', async () => {
    const r = await run([exception('rule: model-signing/unsigned\npaths: ["models/**"]')]);
    expect(waived(r)).toEqual(['model-signing/unsigned']);
    expect(r.exceptions).toEqual([expect.objectContaining({ rule: 'model-signing', codes: ['unsigned'], matched: 1 })]);
  });

  it('the shorthand with a codes list too, or with an unknown rule, is a located error', async () => {
    const both = await configError(() => run([exception('rule: model-signing/unsigned\npaths: ["**"]\ncodes: [unsigned]')]));
    expect(both[0]).toMatch(/^\.github\/mlgate\.yml:5:\d+: exceptions\[0\]\.rule: names the code unsigned and the exception also lists codes/);
    const typo = await configError(() => run([exception('rule: model-signin/unsigned\npaths: ["**"]')]));
    expect(typo[0]).toMatch(/exceptions\[0\]\.rule: unknown rule id "model-signin\/unsigned"/);
  });

  it('a code the rule never reports is a located error when the rule lists its codes', async () => {
    const probe: Rule = {
      id: 'probe',
      title: 'Probe',
      summary: 'reports one finding per file',
      defaultLevel: 'error',
      references: [],
      paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
      codes: ['stale', 'broken'],
      tighten: {},
      examples: { pass: { description: '', files: {}, expect: [] }, fail: { description: '', files: {}, expect: ['stale'] } },
      run: async (ctx) => {
        for (const f of ctx.inventory.files) ctx.report({ code: 'stale', path: f.path, message: `${f.path} is stale` });
      },
    };
    const policy = (codes: string) => `version: 1\nrules:\n  probe: {level: error}\nexceptions:\n${exception(`rule: probe\npaths: ["**"]\ncodes: ${codes}`)}`;
    const go = (codes: string) => evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy(codes) }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now }, [probe]);
    const errors = await configError(() => go('[stael]'));
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:7:\d+: exceptions\[0\]\.codes: probe reports no finding with the code "stael", so the exception would never apply \(its codes: stale, broken\)$/);
    const r = await go('[stale]');
    expect(r.findings.every((f) => f.waived !== null)).toBe(true);
    expect(r.conclusion).toBe('success');
  });

  it('a fingerprint that is not 32 hex digits is a schema error', async () => {
    const errors = await configError(() => run([exception('rule: model-signing\npaths: ["**"]\nfingerprints: ["sha256:abc"]')]));
    expect(errors[0]).toMatch(/exceptions\[0\]\.fingerprints\[0\]: does not match/);
  });
});

describe('findings without a path', () => {
  it('paths: ["**"] covers threat-model/missing; "." still does; a narrower glob does not', async () => {
    for (const paths of ['["**"]', '["."]']) {
      const r = await run([exception(`rule: threat-model\npaths: ${paths}`)]);
      expect(waived(r)).toEqual(['threat-model/missing']);
    }
    const narrow = await run([exception('rule: threat-model\npaths: ["docs/**"]')]);
    expect(waived(narrow)).toEqual([]);
  });
});

describe('locks restrict what other layers may waive', () => {
  const lockWith = (setting: string) => `version: 1\nrules:\n  model-file-safety:\n    level: error\n    locked: true\n    exceptions: ${setting}\n`;

  it('exceptions: allowed without a code list — a path-only exception still never waives dangerous-global', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["models/legacy/**"]')], { org: lockWith('allowed') });
    expect(waived(r)).toEqual(['model-file-safety/unknown-global']);
  });

  it('exceptions: allowed without a code list — naming a tampering code is refused, and its fingerprint waives nothing', async () => {
    const errors = await configError(() => run([exception('rule: model-file-safety\npaths: ["**"]\ncodes: [dangerous-global]')], { org: lockWith('allowed') }));
    expect(errors[0]).toMatch(/exceptions\[0\]\.codes: acme\/policies\/ml\.yml@v1\.0\.0 locks rule model-file-safety, and dangerous-global is a tampering code/);
    const base = await run([]);
    const fp = byCode(base, 'model-file-safety/dangerous-global').fingerprint;
    const r = await run([exception(`rule: model-file-safety\npaths: ["**"]\nfingerprints: ["${fp}"]`)], { org: lockWith('allowed') });
    expect(waived(r)).toEqual([]);
  });

  it('{allowed: true, codes: [...]} — a path-only exception waives the listed codes only', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["**"]')], { org: lockWith('{allowed: true, codes: [unknown-global]}') });
    expect(waived(r)).toEqual(['model-file-safety/unknown-global']);
    const errors = await configError(() => run([exception('rule: model-file-safety\npaths: ["**"]\ncodes: [unknown-global, malformed]')], { org: lockWith('{allowed: true, codes: [unknown-global]}') }));
    expect(errors[0]).toMatch(/exceptions\[0\]\.codes: .* locks rule model-file-safety, and it allows exceptions for unknown-global only/);
  });

  it('a lock that lists a tampering code lets another layer waive it by naming it', async () => {
    const r = await run([exception('rule: model-file-safety\npaths: ["models/legacy/evil.pkl"]\ncodes: [dangerous-global]')], { org: lockWith('{allowed: true, codes: [dangerous-global]}') });
    expect(waived(r)).toEqual(['model-file-safety/dangerous-global']);
  });

  it('{allowed: false} denies exceptions like `denied`', async () => {
    const errors = await configError(() => run([exception('rule: model-file-safety\npaths: ["**"]\ncodes: [unknown-global]')], { org: lockWith('{allowed: false}') }));
    expect(errors[0]).toMatch(/locks rule model-file-safety without `exceptions: allowed`/);
  });

  it('another layer may not widen the lock\'s code list', async () => {
    const head = 'rules:\n  model-file-safety:\n    exceptions: {allowed: true, codes: [unknown-global, dangerous-global]}\n';
    const errors = await configError(() => run([], { org: lockWith('{allowed: true, codes: [unknown-global]}'), head }));
    expect(errors[0]).toMatch(/rules\.model-file-safety\.exceptions: allows exceptions for dangerous-global \(the lock allows them for unknown-global only\)/);
  });

  it('the restriction holds wherever the lock sits in the merge order', async () => {
    const legacy = `version: 1\nexceptions:\n${exception('rule: model-file-safety\npaths: ["**"]')}`;
    for (const order of [['./policies/legacy.yml', ORG], [ORG, './policies/legacy.yml']]) {
      const policy = `version: 1\nextends:\n  - mlgate:recommended\n${order.map((e) => `  - ${e}\n`).join('')}`;
      const r = await evaluate({
        root,
        // The lock opens only dangerous-global, and a path-only exception never covers that: nothing is waived.
        provider: memoryProvider({ '.github/mlgate.yml': policy, 'policies/legacy.yml': legacy }, { [ORG]: lockWith('{allowed: true, codes: [dangerous-global]}') }),
        mode: 'full',
        logger: silentLogger,
        toolVersion: '1.0.0',
        now,
      });
      expect([order[0], waived(r)]).toEqual([order[0], []]);
      expect(r.findings.map((f) => f.code)).toContain('policy/unused-exception');
    }
  });

  it('the locking policy itself may waive a tampering code by naming it', async () => {
    const org = `${lockWith('denied')}exceptions:\n${exception('rule: model-file-safety/dangerous-global\npaths: ["models/legacy/evil.pkl"]')}`;
    const r = await run([], { org });
    expect(waived(r)).toEqual(['model-file-safety/dangerous-global']);
  });
});
