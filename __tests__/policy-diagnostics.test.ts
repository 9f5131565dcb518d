import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { policyDiagnostics } from '../src/policies/diagnostics.js';
import { loadPolicy } from '../src/policies/load.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';

const now = new Date('2026-11-28T12:00:00Z');
const UNPINNED = 'acme/ml-policies/policies/ml.yml@main';
const exception = (rule: string, expires: string) => `  - rule: ${rule}\n    paths: ["legacy/**"]\n    reason: retraining tracked in SEC-9\n    owner: "@acme/ml"\n    expires: ${expires}\n`;
const local = {
  '.github/mlgate.yml': `version: 1\nextends:\n  - ${UNPINNED}\nrules:\n  threat-model: {level: error}\nexceptions:\n${exception('threat-model', '2026-11-01')}${exception('threat-model', '2026-12-05')}${exception('threat-model', '2027-03-01')}`,
};
const remote = { [UNPINNED]: `version: 1\nrules:\n  model-card: {}\nexceptions:\n${exception('model-card', '2026-11-20')}` };

describe('policyDiagnostics: what check says about the policy itself', () => {
  it('reports unpinned extends, expired and expiring exceptions, located in the repository policy', async () => {
    const policy = await loadPolicy({ provider: memoryProvider(local, remote), rules: RULES, now });
    const found = policyDiagnostics(policy, { today: now });
    expect(found.map((d) => `${d.level}:${d.code}@${d.path ?? '-'}:${d.line ?? '-'}`)).toEqual([
      'warning:policy/unpinned-extends@.github/mlgate.yml:3',
      'error:policy/expired-exception@-:-',
      'error:policy/expired-exception@.github/mlgate.yml:7',
      'warning:policy/expiring-exception@.github/mlgate.yml:12',
    ]);
    // An exception of a remote layer has no line here: its message names the layer instead.
    expect(found[1]!.message).toContain(`declared in ${UNPINNED}`);
    expect(found[2]!.message).toMatch(/expired on 2026-11-01: fix the findings it covered or renew it/);
  });

  it('says the same as check does (apart from exceptions that match nothing, which need the findings)', async () => {
    const policy = await loadPolicy({ provider: memoryProvider(local, remote), rules: RULES, now });
    const fromDiagnostics = policyDiagnostics(policy, { today: now }).map((d) => `${d.level}:${d.code}:${d.message}`).sort();
    const report = await evaluate({ root: await makeRepo({ 'a.txt': 'x' }), provider: memoryProvider(local, remote), mode: 'changed', changes: { modified: ['a.txt'] }, logger: silentLogger, toolVersion: '1.0.0', now });
    const fromCheck = report.findings.filter((f) => f.rule === 'policy').map((f) => `${f.level}:${f.code}:${f.message}`).sort();
    expect(fromCheck).toEqual(fromDiagnostics);
  });

  it('is empty for a clean policy, and time moves exceptions from fine to expiring to expired', async () => {
    const clean = { '.github/mlgate.yml': `version: 1\nrules:\n  threat-model: {}\nexceptions:\n${exception('threat-model', '2027-03-01')}` };
    const policy = await loadPolicy({ provider: memoryProvider(clean), rules: RULES, now });
    expect(policyDiagnostics(policy, { today: now })).toEqual([]);
    expect(policyDiagnostics(policy, { today: new Date('2027-02-20T00:00:00Z') }).map((d) => d.code)).toEqual(['policy/expiring-exception']);
    expect(policyDiagnostics(policy, { today: new Date('2027-03-01T23:59:59Z') }).map((d) => d.code)).toEqual(['policy/expiring-exception']);
    expect(policyDiagnostics(policy, { today: new Date('2027-03-02T00:00:00Z') }).map((d) => d.code)).toEqual(['policy/expired-exception']);
  });

  it('an exception beyond max-exception-days is a configuration error already (exit 2), as in check', async () => {
    const long = { '.github/mlgate.yml': `version: 1\nmax-exception-days: 30\nrules:\n  threat-model: {}\nexceptions:\n${exception('threat-model', '2027-03-01')}` };
    const errors = await configError(() => loadPolicy({ provider: memoryProvider(long), rules: RULES, now }));
    expect(errors).toEqual([expect.stringMatching(/^\.github\/mlgate\.yml:10:14: exceptions\[0\]\.expires: expires 2027-03-01, more than 30 days ahead/)]);
  });
});
