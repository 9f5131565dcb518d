import { describe, expect, it } from 'vitest';
import { ERROR_POLICY, FINDINGS_BASE, FINDINGS_HEAD, onlyCheckRunOf, pullRequestEvent, pullRequestRepo, readReport, runAction, threatModel, TOKEN, useApiServer } from './harness.js';

// The bundled action run as the runner runs it, against the validating API server.
const api = useApiServer();

const onlyCheckRun = () => onlyCheckRunOf(api());

describe('the action on a pull request', () => {
  it('puts a failing check run with annotations on the PR head and exits 1', async () => {
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    const check = onlyCheckRun();
    expect(check.head_sha).toBe(pr.headSha);
    expect(check.head_sha).not.toBe(pr.mergeSha);
    expect(check.name).toBe('mlgate');
    expect(check.status).toBe('completed');
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toBe('2 errors, 0 warnings');
    expect(check.output.summary).toContain('docs/rules/threat-model.md');
    expect(check.annotations.map((a) => `${a.annotation_level}:${a.path}:${a.start_line}-${a.end_line}`).sort()).toEqual([
      'failure:THREAT_MODEL.md:1-1',
      'failure:THREAT_MODEL.md:11-11',
    ]);
    const bogus = check.annotations.find((a) => a.start_line === 11)!;
    expect(bogus.start_column).toBe(6);
    expect(bogus.message).toMatch(/AML\.T9999/);
    expect(bogus.title).toBe('threat-model/unknown-atlas-id');
    expect(bogus.raw_details).toMatch(/^How to fix: https:\/\/\S+threat-model\.md/);

    // Created in progress first, completed afterwards.
    const writes = api().requests.filter((r) => r.operationId?.startsWith('checks/'));
    expect(writes.map((r) => r.operationId)).toEqual(['checks/create', 'checks/update']);
    expect((writes[0]!.body as { status: string }).status).toBe('in_progress');
    // The history was in the checkout: no need to ask the API for the files or the policy.
    expect(api().requestsTo('pulls/list-files')).toEqual([]);
    expect(api().requestsTo('repos/get-content')).toEqual([]);

    expect(run.outputs).toMatchObject({ conclusion: 'failure', errors: '2', warnings: '0' });
    const report = await readReport(run);
    expect(report).toMatchObject({ mode: 'changed', conclusion: 'failure' });
    expect(report.findings.map((f) => f.code).sort()).toEqual(['threat-model/not-updated', 'threat-model/unknown-atlas-id']);
    expect(run.summary).toContain('Gate failed');
    expect(run.summary).toContain('threat-model');
    // The token appears once, in the command that masks it, and nowhere else.
    const printed = (run.stdout + run.stderr).split('\n').filter((l) => l.includes(TOKEN));
    expect(printed).toEqual([`::add-mask::${TOKEN}`]);
    expect(run.envFile).toBe('');
  });

  it('passes a clean PR without a policy file (mlgate:recommended) and exits 0', async () => {
    const pr = await pullRequestRepo({ 'THREAT_MODEL.md': threatModel(), 'README.md': '# classifier\n' }, { 'README.md': '# classifier\n\nNow with docs.\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const check = onlyCheckRun();
    expect(check).toMatchObject({ head_sha: pr.headSha, status: 'completed', conclusion: 'success' });
    expect(check.output.title).toBe('0 errors, 0 warnings');
    expect(check.annotations).toEqual([]);
    expect(run.outputs).toMatchObject({ conclusion: 'success', errors: '0', warnings: '0' });
    expect(run.summary).toContain('Gate passed');
  });

  it('delivers 120+ annotations in batches of at most 50', async () => {
    const bogus = Array.from({ length: 130 }, (_, i) => `Row ${i}: AML.T9${String(i).padStart(3, '0')}`).join('\n');
    // The change edits the threat model, so its findings are this PR's business.
    const pr = await pullRequestRepo({ '.github/mlgate.yml': ERROR_POLICY, 'THREAT_MODEL.md': threatModel() }, { 'THREAT_MODEL.md': threatModel(`${bogus}\n`) });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    const check = onlyCheckRun();
    expect(check.annotations).toHaveLength(130);
    expect(new Set(check.annotations.map((a) => a.start_line)).size).toBe(130);
    expect(check.batches).toEqual([50, 50, 30]);
    for (const r of api().requestsTo('checks/update')) {
      expect(((r.body as { output?: { annotations?: unknown[] } }).output?.annotations ?? []).length).toBeLessThanOrEqual(50);
    }
    // Completed only with the last batch, so a finished run always carries them all.
    const updates = api().requestsTo('checks/update').map((r) => (r.body as { conclusion?: string }).conclusion);
    expect(updates).toEqual([undefined, undefined, 'failure']);
  });

  it('judges a PR that edits the policy by the base policy, and says so', async () => {
    // The PR tries to switch the rule off; the base policy still makes its findings errors.
    const pr = await pullRequestRepo(FINDINGS_BASE, { ...FINDINGS_HEAD, '.github/mlgate.yml': 'version: 1\nrules:\n  threat-model:\n    level: "off"\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    const check = onlyCheckRun();
    expect(check.conclusion).toBe('failure');
    const byLevel = check.annotations.map((a) => `${a.annotation_level}:${a.path}:${a.start_line}:${String(a.title)}`).sort();
    expect(byLevel).toContain('failure:THREAT_MODEL.md:11:threat-model/unknown-atlas-id');
    expect(byLevel.some((a) => a.startsWith('notice:.github/mlgate.yml:') && a.includes('policy/changed-in-pr'))).toBe(true);
  });

  it('reads a remote extends through the contents API at its pinned ref', async () => {
    const base = { ...FINDINGS_BASE, '.github/mlgate.yml': 'version: 1\nextends:\n  - acme/ml-policies/policies/ml.yml@v3.2.0\n' };
    const pr = await pullRequestRepo(base, FINDINGS_HEAD);
    api().state.contents.set('acme/ml-policies@v3.2.0:policies/ml.yml', ERROR_POLICY);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(api().requestsTo('repos/get-content').map((r) => `${r.path}${r.query}`)).toEqual(['/repos/acme/ml-policies/contents/policies%2Fml.yml?ref=v3.2.0']);
    expect(onlyCheckRun().conclusion).toBe('failure');
  });
});
