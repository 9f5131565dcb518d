import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/engine/evaluate.js';
import { silentLogger } from '../../src/core/logger.js';
import { memoryProvider } from '../helpers/policy.js';
import { makeRepo } from '../helpers/repo.js';
import { onlyCheckRunOf, pullRequestEvent, pullRequestRepo, readReport, runAction, useApiServer } from './harness.js';

// The bundled action on a pull request whose baseline lives in the base commit.
const api = useApiServer();

const POLICY = 'version: 1\nrules:\n  unsafe-deserialization:\n    level: error\nbaseline: .github/mlgate-baseline.yml\n';
const EMPTY = 'version: 1\nentries: []\n';
const TRAIN = 'import torch\n\nstate = torch.load("ckpt.pt")\n';
const expires = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);

/** The baseline entry `mlgate baseline` would write for the torch.load in train.py. */
async function entryForTrain(): Promise<string> {
  const root = await makeRepo({ 'train.py': TRAIN });
  const r = await evaluate({ root, mode: 'full', provider: memoryProvider({ '.github/mlgate.yml': POLICY, '.github/mlgate-baseline.yml': EMPTY }), logger: silentLogger, toolVersion: '1.0.0' });
  const f = r.findings.find((x) => x.code === 'unsafe-deserialization/torch-load')!;
  return `version: 1\nentries:\n  - fingerprint: ${f.fingerprint}\n    rule: unsafe-deserialization\n    code: torch-load\n    path: train.py\n    message: "torch.load"\n    owner: "@acme/ml"\n    reason: "accepted in this PR"\n    expires: ${expires}\n`;
}

/** The gate failed on the finding the PR tried to accept, and each of `pending` is a notice on that file. */
async function expectStillFails(run: Awaited<ReturnType<typeof runAction>>, pending: string[]): Promise<void> {
  expect(run.code, run.stdout + run.stderr).toBe(1);
  const check = onlyCheckRunOf(api());
  expect(check.conclusion).toBe('failure');
  const titles = check.annotations.map((a) => `${a.annotation_level}:${a.path}:${String(a.title)}`);
  expect(titles).toContain('failure:train.py:unsafe-deserialization/torch-load');
  for (const p of pending) expect(titles).toContain(`notice:${p}`);
  const report = await readReport(run);
  expect(report.findings.find((f) => f.code === 'unsafe-deserialization/torch-load')).toMatchObject({ level: 'error', waived: null });
}

describe('the action and the baseline', () => {
  it('a PR that baselines its own new finding still fails, and the entry is reported as pending until merge', async () => {
    const withEntry = await entryForTrain();
    const pr = await pullRequestRepo({ '.github/mlgate.yml': POLICY, '.github/mlgate-baseline.yml': EMPTY }, { 'train.py': TRAIN, '.github/mlgate-baseline.yml': withEntry });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2 }), sha: pr.mergeSha });

    await expectStillFails(run, ['.github/mlgate-baseline.yml:policy/pending-baseline-entry']);
  });

  it('once the entry is in the base commit it waives the finding, marked as from the baseline', async () => {
    const withEntry = await entryForTrain();
    const pr = await pullRequestRepo({ '.github/mlgate.yml': POLICY, '.github/mlgate-baseline.yml': withEntry, 'train.py': 'import torch\n' }, { 'train.py': TRAIN });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = await readReport(run);
    expect(report.findings.find((f) => f.code === 'unsafe-deserialization/torch-load')).toMatchObject({ waived: { owner: '@acme/ml', source: 'baseline', expires } });
    expect(report.findings.map((f) => f.code)).not.toContain('policy/pending-baseline-entry');
  });

  it('a PR that grants its own new finding both an inline waiver and a baseline entry still fails, and both are pending until merge', async () => {
    const withEntry = await entryForTrain();
    const policy = `${POLICY}inline-exceptions: allowed\n`;
    const waived = `import torch\n\n# mlgate: ignore[unsafe-deserialization/torch-load] reason="trusted checkpoint" owner=@acme/ml expires=${expires}\nstate = torch.load("ckpt.pt")\n`;
    const pr = await pullRequestRepo({ '.github/mlgate.yml': policy, '.github/mlgate-baseline.yml': EMPTY }, { 'train.py': waived, '.github/mlgate-baseline.yml': withEntry });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2 }), sha: pr.mergeSha });

    await expectStillFails(run, ['.github/mlgate-baseline.yml:policy/pending-baseline-entry', 'train.py:policy/inline-waiver-pending']);
  });
});
