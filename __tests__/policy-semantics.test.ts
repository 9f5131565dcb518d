import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import type { Report } from '../src/report/types.js';
import { makeRepo } from './helpers/repo.js';
import { configError, memoryProvider } from './helpers/policy.js';

const now = new Date('2026-11-28T12:00:00Z');
const ORG = 'acme/ml-policies/policies/ml.yml@v3.2.0';
const GOOD_TM = '---\nlast-reviewed: 2026-11-01\n---\n# TM\n## Assets\nx\n## Threats\nAML.T0020\n## Mitigations\ny\n';

async function run(files: Record<string, string>, policies: Record<string, string>, remote: Record<string, string> = {}, extra: Partial<Parameters<typeof evaluate>[0]> = {}): Promise<Report> {
  const root = await makeRepo(files);
  return evaluate({ root, provider: memoryProvider(policies, remote), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now, ...extra });
}
const codes = (r: Report) => r.findings.map((f) => `${f.level}:${f.code}${f.waived ? ':waived' : ''}`).sort();

describe('merge order', () => {
  it('applies extends in order, then the file, key by key inside a rule', async () => {
    const r = await run(
      { 'THREAT_MODEL.md': '---\nlast-reviewed: 2026-11-01\n---\n## Assets\nAML.T0020\n' },
      { '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\nrules:\n  threat-model:\n    level: error\n` },
      { [ORG]: 'version: 1\nrules:\n  threat-model:\n    level: warning\n    sections: [Assets]\n' },
    );
    // level from the repo (error), sections from the org ([Assets]) — so the only section required is present.
    expect(r.rules.find((x) => x.id === 'threat-model')?.level).toBe('error');
    expect(codes(r)).toEqual([]);
    expect(r.conclusion).toBe('success');
  });

  it('runs only the rules a layer names when there is no extends', async () => {
    const r = await run({ 'a.txt': 'x' }, { '.github/mlgate.yml': 'version: 1\n' });
    expect(r.rules.every((x) => !x.evaluated)).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('uses mlgate:recommended when there is no policy file', async () => {
    const r = await run({ 'a.txt': 'x' }, {});
    expect(r.rules.find((x) => x.id === 'threat-model')).toMatchObject({ level: 'warning', evaluated: true });
    expect(codes(r)).toEqual(['warning:threat-model/missing']);
    expect(r.conclusion).toBe('success');
  });

  it('mlgate:recommended leaves out the hub findings that only say "cannot tell"; mlgate:strict keeps them', async () => {
    const files = { 'THREAT_MODEL.md': '# Threat model\n', 'load.py': 'from transformers import AutoModel\nAutoModel.from_pretrained(args.model)\nAutoModel.from_pretrained("acme/m", revision=rev)\nAutoModel.from_pretrained("acme/m")\n' };
    const rec = await run(files, {});
    expect(codes(rec).filter((c) => c.includes('model-hub-pinning'))).toEqual(['warning:model-hub-pinning/unpinned']);
    const strict = await run(files, { '.github/mlgate.yml': 'version: 1\nextends: [mlgate:strict]\n' });
    expect(codes(strict).filter((c) => c.includes('model-hub-pinning')).sort()).toEqual(['error:model-hub-pinning/unpinned', 'info:model-hub-pinning/unverifiable-repo', 'info:model-hub-pinning/unverifiable-revision']);
  });

  it('mlgate:strict puts every rule at error', async () => {
    const r = await run({ 'a.txt': 'x' }, { '.github/mlgate.yml': 'version: 1\nextends: [mlgate:strict]\n' });
    expect(codes(r)).toEqual(['error:threat-model/missing']);
    expect(r.conclusion).toBe('failure');
  });
});

describe('locked rules', () => {
  const org = 'version: 1\nrules:\n  threat-model:\n    level: error\n    locked: true\n    sections: [Assets, Threats]\n    max-age-days: 90\n';
  const repo = (body: string) => ({ '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\nrules:\n  threat-model:\n${body}` });

  it.each([
    ['lowering the level', '    level: warning\n', /^\.github\/mlgate\.yml:5:5: rules\.threat-model\.level: lowers the level from error to warning, but acme\/ml-policies\/policies\/ml\.yml@v3\.2\.0 locks rule threat-model/],
    ['turning it off', '    level: off\n', /rules\.threat-model\.level: lowers the level from error to off/],
    ['dropping a required section', '    sections: [Assets]\n', /rules\.threat-model\.sections: sections drops "Threats"/],
    ['allowing an older review', '    max-age-days: 365\n', /rules\.threat-model\.max-age-days: max-age-days raises it from 90 to 365/],
    ['postponing enforcement', '    enforce-from: 2027-06-01\n', /rules\.threat-model\.enforce-from: postpones enforcement/],
    ['unlocking', '    locked: false\n', /rules\.threat-model\.locked: unlocks it/],
  ])('a repo layer cannot loosen it: %s', async (_name, body, pattern) => {
    const errors = await configError(() => run({ 'THREAT_MODEL.md': GOOD_TM }, repo(body), { [ORG]: org }));
    expect(errors.join('\n')).toMatch(pattern);
  });

  it('compares a parameter the lock left unset through its default', async () => {
    const lockAll = 'version: 1\nrules:\n  dependency-pinning:\n    level: error\n    locked: true\n';
    const narrow = { '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\nrules:\n  dependency-pinning:\n    ecosystems: [pip]\n` };
    const errors = await configError(() => run({ 'a.txt': 'x' }, narrow, { [ORG]: lockAll }));
    expect(errors[0]).toMatch(/rules\.dependency-pinning\.ecosystems: ecosystems drops "pyproject"/);
    const all = { '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\nrules:\n  dependency-pinning:\n    require-hashes: true\n` };
    await expect(run({ 'a.txt': 'x' }, all, { [ORG]: lockAll })).resolves.toMatchObject({ conclusion: 'success' });
  });

  it('a repo layer may tighten it', async () => {
    const r = await run({ 'THREAT_MODEL.md': GOOD_TM }, repo('    sections: [Assets, Threats, Mitigations, Residual risk]\n    max-age-days: 30\n'), { [ORG]: org });
    expect(codes(r)).toEqual(['error:threat-model/missing-section']);
  });

  it('refuses exceptions to a locked rule unless the lock allows them', async () => {
    const ex = `exceptions:\n  - rule: threat-model\n    paths: ["THREAT_MODEL.md"]\n    reason: being rewritten\n    owner: "@acme/ml"\n    expires: 2027-01-15\n`;
    const policies = { '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\n${ex}` };
    const errors = await configError(() => run({ 'THREAT_MODEL.md': '# nothing' }, policies, { [ORG]: org }));
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:4:5: exceptions\[0\]: acme\/ml-policies\/policies\/ml\.yml@v3\.2\.0 locks rule threat-model without `exceptions: allowed`/);

    const allowing = org.replace('locked: true\n', 'locked: true\n    exceptions: allowed\n');
    const r = await run({ 'THREAT_MODEL.md': '# nothing' }, policies, { [ORG]: allowing });
    expect(r.findings.filter((f) => f.rule === 'threat-model').every((f) => f.waived?.owner === '@acme/ml')).toBe(true);
    expect(r.conclusion).toBe('success');
  });

  it('ignores exclusions added after the lock for the locked rule', async () => {
    const errors = await run({ 'docs/threat-model.md': '# no sections' }, { '.github/mlgate.yml': `version: 1\nextends: [${ORG}]\npaths:\n  exclude: ["docs/**"]\n` }, {
      [ORG]: 'version: 1\nrules:\n  threat-model:\n    level: error\n    locked: true\n',
    });
    expect(codes(errors)).toContain('error:threat-model/missing-section');
    const unlocked = await run({ 'docs/threat-model.md': '# no sections' }, { '.github/mlgate.yml': 'version: 1\npaths:\n  exclude: ["docs/**"]\nrules:\n  threat-model: {level: error}\n' });
    // The only file is excluded: the run also says that it evaluated nothing.
    expect(codes(unlocked)).toEqual(['error:threat-model/missing', 'warning:inventory/nothing-evaluated']);
  });
});

describe('paths.exclude', () => {
  it('leaves excluded files to no rule and does not report symlinks under them', async () => {
    const root = await makeRepo({ 'THREAT_MODEL.md': GOOD_TM, 'third_party/lib/THREAT_MODEL.md': '# vendored' });
    await symlink('/etc/passwd', path.join(root, 'third_party/lib/link'));
    await symlink('/etc/passwd', path.join(root, 'link'));
    const provider = memoryProvider({ '.github/mlgate.yml': 'version: 1\npaths:\n  exclude: ["third_party/**"]\nrules:\n  threat-model:\n    level: error\n    paths: ["**/THREAT_MODEL.md"]\n' });
    const r = await evaluate({ root, provider, mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
    expect(r.findings.map((f) => `${f.code}@${f.path}`)).toEqual(['inventory/symlink@link']);
  });
});

describe('repository-wide notes in changed mode', () => {
  it('reports a symlink only when the change touches it', async () => {
    const root = await makeRepo({ 'THREAT_MODEL.md': GOOD_TM, 'src/a.py': '' });
    await symlink('/etc/passwd', path.join(root, 'old-link'));
    await symlink('/etc/passwd', path.join(root, 'new-link'));
    const provider = memoryProvider({});
    const base = { root, provider, logger: silentLogger, toolVersion: '1.0.0', now } as const;
    const links = (r: Report) => r.findings.filter((f) => f.code === 'inventory/symlink').map((f) => `${f.code}@${f.path}`).sort();
    expect(links(await evaluate({ ...base, mode: 'full' }))).toEqual(['inventory/symlink@new-link', 'inventory/symlink@old-link']);
    expect(links(await evaluate({ ...base, mode: 'changed', changes: { modified: ['src/a.py'] } }))).toEqual([]);
    expect(links(await evaluate({ ...base, mode: 'changed', changes: { added: ['new-link'] } }))).toEqual(['inventory/symlink@new-link']);
  });
});

describe('exceptions', () => {
  const policy = (expires: string, paths = '["THREAT_MODEL.md"]') =>
    `version: 1\nrules:\n  threat-model:\n    level: error\nexceptions:\n  - rule: threat-model\n    paths: ${paths}\n    reason: rewrite tracked in SEC-1\n    owner: "@acme/ml"\n    expires: ${expires}\n`;

  it('waives matching findings, still reports them, and passes the gate', async () => {
    const r = await run({ 'THREAT_MODEL.md': '# empty' }, { '.github/mlgate.yml': policy('2027-03-01') });
    const tm = r.findings.filter((f) => f.rule === 'threat-model');
    expect(tm.length).toBeGreaterThan(0);
    expect(tm.every((f) => f.waived?.reason === 'rewrite tracked in SEC-1' && f.waived.expires === '2027-03-01')).toBe(true);
    expect(r.counts.waived).toBe(tm.length);
    expect(r.counts.error).toBe(0);
    expect(r.conclusion).toBe('success');
    expect(r.exceptions).toEqual([expect.objectContaining({ rule: 'threat-model', owner: '@acme/ml', matched: tm.length })]);
  });

  it('an expired exception is an error on the policy file and waives nothing', async () => {
    const r = await run({ 'THREAT_MODEL.md': '# empty' }, { '.github/mlgate.yml': policy('2026-11-01') });
    const expired = r.findings.find((f) => f.code === 'policy/expired-exception');
    expect(expired).toMatchObject({ level: 'error', path: '.github/mlgate.yml', line: 6 });
    expect(r.counts.waived).toBe(0);
    expect(r.conclusion).toBe('failure');
  });

  it('an exception that matches nothing is a warning', async () => {
    const r = await run({ 'THREAT_MODEL.md': GOOD_TM }, { '.github/mlgate.yml': policy('2027-03-01') });
    expect(codes(r)).toEqual(['warning:policy/unused-exception']);
    expect(r.conclusion).toBe('success');
  });

  it('a finding on the repository as a whole is covered by the path "."', async () => {
    const r = await run({ 'a.txt': 'x' }, { '.github/mlgate.yml': policy('2027-03-01', '["."]') });
    expect(codes(r)).toEqual(['error:threat-model/missing:waived']);
    expect(r.conclusion).toBe('success');
  });

  it('an exception expiring within 14 days is a warning', async () => {
    const r = await run({ 'THREAT_MODEL.md': '# empty' }, { '.github/mlgate.yml': policy('2026-12-05') });
    expect(codes(r)).toContain('warning:policy/expiring-exception');
    expect(r.conclusion).toBe('success');
  });
});

describe('enforce-from', () => {
  const policy = (date: string) => `version: 1\nrules:\n  threat-model:\n    level: error\n    enforce-from: ${date}\n`;
  it('keeps findings at warning before the date', async () => {
    const r = await run({ 'a.txt': 'x' }, { '.github/mlgate.yml': policy('2027-03-01') });
    expect(codes(r)).toEqual(['warning:threat-model/missing']);
    expect(r.conclusion).toBe('success');
  });
  it('applies the level from the date on', async () => {
    const r = await run({ 'a.txt': 'x' }, { '.github/mlgate.yml': policy('2026-11-28') });
    expect(codes(r)).toEqual(['error:threat-model/missing']);
    expect(r.conclusion).toBe('failure');
  });
});

describe('remote extends and policy notices', () => {
  it('warns about an extends ref that is neither a tag nor a commit', async () => {
    const ref = 'acme/ml-policies/policies/ml.yml@main';
    const r = await run({ 'THREAT_MODEL.md': GOOD_TM }, { '.github/mlgate.yml': `version: 1\nextends:\n  - ${ref}\n` }, { [ref]: 'version: 1\nrules:\n  threat-model: {}\n' });
    expect(r.findings.find((f) => f.code === 'policy/unpinned-extends')).toMatchObject({ level: 'warning', path: '.github/mlgate.yml', line: 3 });
  });

  it('reads relative extends of a remote policy from its own repository at the same ref', async () => {
    const sha = 'a'.repeat(40);
    const provider = memoryProvider(
      { '.github/mlgate.yml': `version: 1\nextends: [acme/pol/ml.yml@${sha}]\n` },
      { [`acme/pol/ml.yml@${sha}`]: 'version: 1\nextends: [./base.yml]\n', [`acme/pol/base.yml@${sha}`]: 'version: 1\nrules:\n  threat-model: {level: error}\n' },
    );
    const root = await makeRepo({ 'a.txt': 'x' });
    const r = await evaluate({ root, provider, mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
    expect(provider.remoteReads).toEqual([`acme/pol/ml.yml@${sha}`, `acme/pol/base.yml@${sha}`]);
    expect(codes(r)).toEqual(['error:threat-model/missing']);
  });

  it('says when a change edits the policy (changed mode)', async () => {
    const r = await run({ 'THREAT_MODEL.md': GOOD_TM }, { '.github/mlgate.yml': 'version: 1\nrules:\n  threat-model: {}\n' }, {}, { mode: 'changed', changes: { modified: ['.github/mlgate.yml'] } });
    expect(r.findings.find((f) => f.code === 'policy/changed-in-pr')).toMatchObject({ level: 'info', path: '.github/mlgate.yml' });
  });
});
