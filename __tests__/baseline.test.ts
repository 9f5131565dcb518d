import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/core/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { runCli } from './helpers/cli.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { makeRepo } from './helpers/repo.js';
import { callPickle } from './pickle-fixtures.js';

interface JsonFinding {
  rule: string;
  code: string | null;
  level: string;
  path: string | null;
  fingerprint: string;
  waived: { reason: string; owner: string; expires: string; source?: string } | null;
}

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const EXPIRES = inDays(90);
const ADOPT = ['--owner', '@acme/ml-platform', '--reason', 'findings from before mlgate; burn-down in ML-123', '--expires', EXPIRES];

/** An ML repository as mlgate first finds it: findings of six rules. */
const LEGACY = {
  'models/legacy/old.pkl': callPickle('mylib.nets', 'Net'),
  'train.py': 'import pickle\n\nwith open("data.pkl", "rb") as f:\n    x = pickle.load(f)\n',
  'README.md': '# legacy classifier\n',
};

function check(dir: string): { code: number | null; findings: JsonFinding[]; stderr: string } {
  const r = runCli(['check', dir, '--format', 'json']);
  return { code: r.code, findings: (JSON.parse(r.stdout) as { findings: JsonFinding[] }).findings, stderr: r.stderr };
}

const label = (f: JsonFinding) => `${f.code ?? f.rule}@${f.path ?? '.'}`;

describe('mlgate baseline, end to end through the CLI', () => {
  it('adopt → every finding shown as baselined → one new finding fails alone → --prune after a fix', async () => {
    const policy = '# our policy: reviewed by @acme/security\nversion: 1\nextends:\n  - mlgate:recommended # the org default\n';
    const dir = await makeRepo({ ...LEGACY, '.github/mlgate.yml': policy }, { git: true });

    const before = check(dir);
    expect(before.code).toBe(1);
    const rules = new Set(before.findings.map((f) => f.rule));
    expect(rules.size).toBeGreaterThanOrEqual(5);

    const adopt = runCli(['baseline', dir, ...ADOPT]);
    expect(adopt.stderr).toBe('');
    expect(adopt.code).toBe(0);
    expect(adopt.stdout).toContain(`.github/mlgate-baseline.yml: ${before.findings.length} added, 0 removed, 0 kept`);
    // The key is appended: the policy's own text, comments included, is untouched.
    const edited = await readFile(path.join(dir, '.github/mlgate.yml'), 'utf8');
    expect(edited.startsWith(policy)).toBe(true);
    expect(edited).toMatch(/\nbaseline: \.github\/mlgate-baseline\.yml\n$/);
    const file = load(await readFile(path.join(dir, '.github/mlgate-baseline.yml'), 'utf8')) as { version: number; entries: Record<string, string>[] };
    expect(file.version).toBe(1);
    expect(file.entries.map((e) => e.fingerprint).sort()).toEqual(before.findings.map((f) => f.fingerprint).sort());
    for (const e of file.entries) {
      expect(e).toEqual(expect.objectContaining({ owner: '@acme/ml-platform', reason: 'findings from before mlgate; burn-down in ML-123', expires: EXPIRES }));
      expect(e.message!.length).toBeGreaterThan(10);
    }
    expect(file.entries.find((e) => e.code === 'pickle-load')).toEqual(expect.objectContaining({ rule: 'unsafe-deserialization', path: 'train.py' }));

    const adopted = check(dir);
    expect(adopted.code).toBe(0);
    expect(adopted.findings.map(label).sort()).toEqual(before.findings.map(label).sort());
    for (const f of adopted.findings) expect(f.waived).toEqual({ owner: '@acme/ml-platform', reason: 'findings from before mlgate; burn-down in ML-123', expires: EXPIRES, source: 'baseline' });
    const text = runCli(['check', dir]);
    expect(text.stdout).toMatch(/gate passed: 0 errors, 0 warnings, \d+ waived/);

    // A new finding fails the gate, and it alone.
    await writeFile(path.join(dir, 'evaluate.py'), 'import torch\n\nmodel = torch.load("ckpt.pt")\n');
    const grown = check(dir);
    expect(grown.code).toBe(1);
    expect(grown.findings.filter((f) => !f.waived).map(label)).toEqual(['unsafe-deserialization/torch-load@evaluate.py']);
    // Running baseline again would accept it; we fix it instead, and fix an old one too.
    await rm(path.join(dir, 'evaluate.py'));
    await writeFile(path.join(dir, 'train.py'), 'import json\n\nwith open("data.json") as f:\n    x = json.load(f)\n');
    const fixed = check(dir);
    expect(fixed.code).toBe(0);
    expect(fixed.findings.filter((f) => f.rule === 'policy').map((f) => `${f.code}@${f.path}`)).toEqual(['policy/unused-exception@.github/mlgate-baseline.yml']);

    const pruned = runCli(['baseline', dir, '--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`0 added, 1 removed, ${before.findings.length - 1} kept`);
    const after = load(await readFile(path.join(dir, '.github/mlgate-baseline.yml'), 'utf8')) as { entries: Record<string, string>[] };
    expect(after.entries.map((e) => e.code)).not.toContain('pickle-load');
    const clean = check(dir);
    expect(clean.code).toBe(0);
    expect(clean.findings.every((f) => f.waived !== null)).toBe(true);
    // Running it again with nothing new changes nothing.
    expect(runCli(['baseline', dir, ...ADOPT]).stdout).toContain(`0 added, 0 removed, ${before.findings.length - 1} kept`);
  });

  it('creates the policy when there is none, and never accepts a tampering finding', async () => {
    const dir = await makeRepo({ ...LEGACY, 'models/legacy/evil.pkl': callPickle('posix', 'system', 'echo') }, { git: true });
    const r = runCli(['baseline', dir, ...ADOPT]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('.github/mlgate.yml: added baseline: .github/mlgate-baseline.yml');
    expect(r.stdout).toMatch(/1 finding was not baselined and still fails the gate:\n {2}models\/legacy\/evil\.pkl: model-file-safety\/dangerous-global: .*never accepts it/);
    const policy = await readFile(path.join(dir, '.github/mlgate.yml'), 'utf8');
    expect(policy).toMatch(/^# mlgate policy.*\nversion: 1\nextends:\n {2}- mlgate:recommended\n/);
    const after = check(dir);
    expect(after.code).toBe(1);
    expect(after.findings.filter((f) => !f.waived).map(label)).toEqual(['model-file-safety/dangerous-global@models/legacy/evil.pkl']);
  });

  it('refuses to write entries without an owner, a reason and an expiry within max-exception-days', async () => {
    const dir = await makeRepo(LEGACY, { git: true });
    const none = runCli(['baseline', dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs --owner, --reason, --expires/);
    const far = runCli(['baseline', dir, '--owner', '@a', '--reason', 'r', '--expires', inDays(400)]);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/more than 365 days ahead \(max-exception-days\)/);
    // A failed run leaves the repository as it was.
    await expect(readFile(path.join(dir, '.github/mlgate.yml'), 'utf8')).rejects.toThrow();
  });

  it('an expired entry is an error located in the baseline file', async () => {
    const dir = await makeRepo(LEGACY, { git: true });
    expect(runCli(['baseline', dir, ...ADOPT]).code).toBe(0);
    const file = path.join(dir, '.github/mlgate-baseline.yml');
    await writeFile(file, (await readFile(file, 'utf8')).replace(`'${EXPIRES}'`, "'2020-01-01'"));
    const r = check(dir);
    expect(r.code).toBe(1);
    const expired = r.findings.filter((f) => f.code === 'policy/expired-exception');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.path).toBe('.github/mlgate-baseline.yml');
  });
});

describe('a pull request cannot baseline its own findings', () => {
  it('the baseline is read from the base commit; an entry the change adds is reported as pending and the finding still counts', async () => {
    const policy = 'version: 1\nextends:\n  - mlgate:recommended\nbaseline: .github/mlgate-baseline.yml\n';
    const empty = 'version: 1\nentries: []\n';
    const head = { ...LEGACY, '.github/mlgate.yml': policy, '.github/mlgate-baseline.yml': empty };
    const dir = await makeRepo(head);
    const now = new Date();
    const opts = { root: dir, mode: 'changed' as const, changes: { added: ['train.py'], modified: ['.github/mlgate-baseline.yml'] }, logger: silentLogger, toolVersion: '1.0.0', now };
    const first = await evaluate({ ...opts, provider: memoryProvider({ '.github/mlgate.yml': policy, '.github/mlgate-baseline.yml': empty }) });
    const load = first.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!;
    expect(load.waived).toBeNull();
    // The change writes an entry for its own new finding into the baseline.
    const entry = `version: 1\nentries:\n  - fingerprint: ${load.fingerprint}\n    rule: unsafe-deserialization\n    code: pickle-load\n    path: train.py\n    message: m\n    owner: "@me"\n    reason: mine\n    expires: ${inDays(30)}\n`;
    await writeFile(path.join(dir, '.github/mlgate-baseline.yml'), entry);
    const r = await evaluate({ ...opts, provider: memoryProvider({ '.github/mlgate.yml': policy, '.github/mlgate-baseline.yml': empty }) });
    expect(r.conclusion).toBe('failure');
    expect(r.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!.waived).toBeNull();
    expect(r.findings.filter((f) => f.code === 'policy/pending-baseline-entry')).toEqual([
      expect.objectContaining({ level: 'info', path: '.github/mlgate-baseline.yml', line: 3, message: expect.stringContaining('adds a baseline entry for unsafe-deserialization/pickle-load on train.py') }),
    ]);
    // After merge (the base has the entry) it waives the finding.
    const merged = await evaluate({ ...opts, provider: memoryProvider({ '.github/mlgate.yml': policy, '.github/mlgate-baseline.yml': entry }) });
    expect(merged.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!.waived).toEqual(expect.objectContaining({ source: 'baseline', owner: '@me' }));
    expect(merged.findings.map((f) => f.code)).not.toContain('policy/pending-baseline-entry');
  });

  it('a policy naming a baseline that does not exist is a located configuration error', async () => {
    const dir = await makeRepo(LEGACY);
    const policy = 'version: 1\nextends:\n  - mlgate:recommended\nbaseline: .github/baseline.yml\n';
    const errors = await configError(() => evaluate({ root: dir, mode: 'full', provider: memoryProvider({ '.github/mlgate.yml': policy }), logger: silentLogger, toolVersion: '1.0.0' }));
    expect(errors[0]).toMatch(/^\.github\/mlgate\.yml:4:11: baseline: \.github\/baseline\.yml does not exist; write it with `mlgate baseline/);
  });

  it('a malformed baseline entry is a located error in the baseline file', async () => {
    const dir = await makeRepo(LEGACY);
    const policy = 'version: 1\nextends:\n  - mlgate:recommended\nbaseline: b.yml\n';
    const bad = `version: 1\nentries:\n  - fingerprint: xyz\n    rule: model-signing\n    message: m\n    owner: "@me"\n    reason: r\n    expires: ${inDays(30)}\n`;
    const errors = await configError(() => evaluate({ root: dir, mode: 'full', provider: memoryProvider({ '.github/mlgate.yml': policy, 'b.yml': bad }), logger: silentLogger, toolVersion: '1.0.0' }));
    expect(errors[0]).toMatch(/^b\.yml:3:18: entries\[0\]\.fingerprint: does not match/);
  });
});
