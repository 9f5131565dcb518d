import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { schemaUrl } from '../src/core/version.js';
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
    // The summary lists the baseline by rule, as a count of entries rather than every path.
    const md = runCli(['check', dir, '--format', 'markdown']).stdout;
    expect(md).toMatch(/\| unsafe-deserialization \| baseline: 1 entry on 1 path \| `@acme\/ml-platform` \| /);

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
    expect(r.stdout).toMatch(/1 finding was not baselined and still counts:\n {2}models\/legacy\/evil\.pkl: error model-file-safety\/dangerous-global: .*never accepts it/);
    const policy = await readFile(path.join(dir, '.github/mlgate.yml'), 'utf8');
    // Both files name their JSON Schema at this version's tag, so editors complete and check them.
    expect(policy.startsWith(`# yaml-language-server: $schema=${schemaUrl('policy.schema.json')}\n# mlgate policy`)).toBe(true);
    expect(policy).toMatch(/\n# mlgate policy.*\nversion: 1\nextends:\n {2}- mlgate:recommended\n/);
    const baseline = await readFile(path.join(dir, '.github/mlgate-baseline.yml'), 'utf8');
    expect(baseline.split('\n')[0]).toBe(`# yaml-language-server: $schema=${schemaUrl('baseline.schema.json')}`);
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
    // Running baseline again does not quietly renew it.
    const again = runCli(['baseline', dir, ...ADOPT]);
    expect(again.stdout).toMatch(/: 0 added, 0 removed, \d+ kept\n1 finding has an expired entry, left as it is: .*\n {2}(train\.py|models\/legacy\/old\.pkl|\(repository\)): \w+ [a-z-]+\/[a-z-]+\n$/);
    expect(check(dir).findings.filter((f) => f.code === 'policy/expired-exception')).toHaveLength(1);
  });
});

describe('a hostile or broken baseline file fails closed with a located error', () => {
  const policy = 'version: 1\nextends:\n  - mlgate:recommended\nbaseline: b.yml\n';
  const go = async (text: string) => configError(async () => evaluate({ root: await makeRepo(LEGACY), mode: 'full', provider: memoryProvider({ '.github/mlgate.yml': policy, 'b.yml': text }), logger: silentLogger, toolVersion: '1.0.0' }));
  it.each([
    ['over the size limit', `version: 1\nentries: []\n#${'x'.repeat(1024 * 1024)}\n`, /^b\.yml:1:1: the baseline is \d+ bytes, over the 1048576-byte limit/],
    ['YAML aliases', 'version: 1\nentries: &a []\nother: *a\n', /^b\.yml:3:\d+: invalid YAML: more than 0 YAML aliases/],
    ['another version', 'version: 2\nentries: []\n', /^b\.yml:1:\d+: version: must be 1/],
    ['not a list', 'version: 1\nentries: {a: 1}\n', /^b\.yml:2:\d+: entries: must be a list/],
    ['an unknown rule', `version: 1\nentries:\n  - {fingerprint: ${'a'.repeat(32)}, rule: model-sign, message: m, owner: o, reason: r, expires: 2027-01-01}\n`, /^b\.yml:3:\d+: entries\[0\]\.rule: unknown rule id "model-sign"/],
    ['an expiry past max-exception-days', `version: 1\nentries:\n  - {fingerprint: ${'a'.repeat(32)}, rule: model-signing, message: m, owner: o, reason: r, expires: 2999-01-01}\n`, /^b\.yml:3:\d+: entries\[0\]\.expires: expires 2999-01-01, more than 365 days ahead/],
  ])('%s', async (_name, text, want) => {
    const errors = await go(text);
    expect(errors[0]).toMatch(want);
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

describe('fingerprints survive the edits a baselined repository goes through', () => {
  const TRAIN = [
    'import torch',
    'from transformers import AutoModel',
    '',
    "model = AutoModel.from_pretrained('bert-base-uncased')",
    "state = torch.load('ckpt.pt')",
    '',
  ].join('\n');
  const REPO = {
    'models/legacy/old.pkl': callPickle('mylib.nets', 'Net'),
    'train.py': TRAIN,
    'requirements.txt': 'torch>=2.0\ntransformers==4.40.0\nnumpy\n',
    'Dockerfile': 'FROM python:3.11\nRUN pip install -r requirements.txt\n',
  };
  const POLICY = 'version: 1\nextends:\n  - mlgate:recommended\nbaseline: .github/mlgate-baseline.yml\n';
  const now = new Date('2026-11-28T12:00:00Z');
  const run = async (files: Record<string, string | Uint8Array>, baseline: string) =>
    evaluate({ root: await makeRepo(files), mode: 'full', provider: memoryProvider({ '.github/mlgate.yml': POLICY, '.github/mlgate-baseline.yml': baseline }), logger: silentLogger, toolVersion: '1.0.0', now });
  const live = (r: Awaited<ReturnType<typeof run>>) => r.findings.filter((f) => !f.waived && f.rule !== 'policy').map((f) => `${f.code}@${f.path ?? '.'}`).sort();

  /** Each edit, applied alone to the baselined repository, and the findings it leaves unbaselined. */
  const EDITS: { name: string; edit: (files: Record<string, string | Uint8Array>) => void; unbaselined: string[] }[] = [
    { name: 'lines inserted above the findings', edit: (f) => (f['train.py'] = `"""Training entry point."""\nimport os\nimport sys\n\nSEED = 1234\n${TRAIN}`), unbaselined: [] },
    {
      name: 'the file reformatted (quotes, wrapping, blank lines)',
      edit: (f) => (f['train.py'] = 'import torch\nfrom transformers import AutoModel\n\n\nmodel = AutoModel.from_pretrained(\n    "bert-base-uncased",\n)\nstate = torch.load(\n    "ckpt.pt"\n)\n'),
      unbaselined: [],
    },
    { name: 'a variable renamed elsewhere', edit: (f) => (f['train.py'] = TRAIN.replace('model =', 'encoder =').replace('state =', 'weights =')), unbaselined: [] },
    { name: 'comments added to requirements and Dockerfile', edit: (f) => ((f['requirements.txt'] = `# runtime\n\n${f['requirements.txt'] as string}`), (f['Dockerfile'] = `# syntax=docker/dockerfile:1\n# build image\n${f['Dockerfile'] as string}`)), unbaselined: [] },
    { name: 'requirements reordered', edit: (f) => (f['requirements.txt'] = 'numpy\ntransformers==4.40.0\ntorch>=2.0\n'), unbaselined: [] },
    { name: 'the pickle rewritten with its GLOBAL at another offset', edit: (f) => (f['models/legacy/old.pkl'] = Buffer.concat([Buffer.from([0x80, 0x02, 0x4e, 0x30]), (f['models/legacy/old.pkl'] as Buffer).subarray(2)])), unbaselined: [] },
    { name: 'an unrelated file added', edit: (f) => (f['docs/usage.md'] = '# Usage\n\nRun `python train.py`.\n'), unbaselined: [] },
    {
      name: 'train.py moved to src/ (a moved file is a new finding)',
      edit: (f) => ((f['src/train.py'] = TRAIN), delete f['train.py']),
      unbaselined: ['model-hub-pinning/unpinned@src/train.py', 'unsafe-deserialization/torch-load@src/train.py'],
    },
    { name: 'another hub model loaded instead', edit: (f) => (f['train.py'] = TRAIN.replace('bert-base-uncased', 'roberta-base')), unbaselined: ['model-hub-pinning/unpinned@train.py'] },
    { name: 'a second torch.load pasted in', edit: (f) => (f['train.py'] = `${TRAIN}extra = torch.load('other.pt')\n`), unbaselined: ['unsafe-deserialization/torch-load@train.py'] },
  ];

  it('ten realistic edits: only moved files and new code are new findings', async () => {
    const first = await run(REPO, 'version: 1\nentries: []\n');
    const entries = first.findings.filter((f) => f.rule !== 'policy').map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, code: f.code!.split('/')[1], message: f.message, owner: '@acme/ml', reason: 'adopted', expires: '2027-03-01' }));
    expect(entries.length).toBeGreaterThanOrEqual(8);
    const baseline = dump({ version: 1, entries });
    expect(live(await run(REPO, baseline))).toEqual([]);
    for (const { name, edit, unbaselined } of EDITS) {
      const files = { ...REPO };
      edit(files);
      expect([name, live(await run(files, baseline))]).toEqual([name, unbaselined]);
    }
  });
});
