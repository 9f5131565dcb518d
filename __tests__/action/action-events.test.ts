import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDINGS_BASE, FINDINGS_HEAD, onlyCheckRunOf, OWNER, pullRequestEvent, pullRequestRepo, readReport, REPO, runAction, useApiServer, workflowCommands } from './harness.js';

// The bundled action run as the runner runs it, against the validating API server.
const api = useApiServer();

const onlyCheckRun = () => onlyCheckRunOf(api());

describe('the action on other events and errors', () => {
  it('evaluates a push in full with the work-tree policy, on the pushed commit', async () => {
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD);
    const event = { ref: 'refs/heads/main', before: pr.baseSha, after: pr.mergeSha, repository: { full_name: `${OWNER}/${REPO}`, name: REPO, owner: { login: OWNER } } };
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'push', event, sha: pr.mergeSha });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const check = onlyCheckRun();
    expect(check.head_sha).toBe(pr.mergeSha);
    const report = await readReport(run);
    expect(report.mode).toBe('full');
  });

  it('exits 2 with the input named when an input is invalid', async () => {
    const pr = await pullRequestRepo({ 'README.md': 'x\n' }, {});
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'workflow_dispatch', event: {}, sha: pr.mergeSha, inputs: { 'fail-on': 'sometimes' } });
    expect(run.code).toBe(2);
    expect(workflowCommands(run.stdout).find((c) => c.command === 'error')?.message).toMatch(/Input "fail-on" must be one of "error", "warning", "never"/);
    expect(api().requests).toEqual([]);
  });

  it('exits 2, not a crash, when the event payload is not JSON', async () => {
    const pr = await pullRequestRepo({ 'README.md': 'x\n' }, {});
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: {}, rawEvent: '{"pull_request": ', sha: pr.mergeSha });
    expect(run.code).toBe(2);
    expect(workflowCommands(run.stdout).find((c) => c.command === 'error')?.message).toMatch(/payload \(GITHUB_EVENT_PATH\) is not valid JSON/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(api().requests).toEqual([]);
  });

  it('exits 2 and completes the check run when the policy is broken', async () => {
    const pr = await pullRequestRepo({ '.github/mlgate.yml': 'version: 1\nrules:\n  no-such-rule: {}\n' }, { 'README.md': 'x\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    const check = onlyCheckRun();
    expect(check).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(check.output.title).toBe('Configuration error');
    expect(check.output.summary).toContain('no-such-rule');
  });

  it('judges a merge group by its changes, on the merge group head, with the base policy', async () => {
    // The queued change tries to loosen the policy; the merge group's base policy still applies.
    const pr = await pullRequestRepo(FINDINGS_BASE, { ...FINDINGS_HEAD, '.github/mlgate.yml': 'version: 1\nrules:\n  threat-model:\n    level: "off"\n' });
    const event = { action: 'checks_requested', merge_group: { head_sha: pr.headSha, head_ref: 'refs/heads/gh-readonly-queue/main/pr-7', base_sha: pr.baseSha, base_ref: 'refs/heads/main' }, repository: { full_name: `${OWNER}/${REPO}`, name: REPO, owner: { login: OWNER } } };
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'merge_group', event, sha: pr.headSha });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(onlyCheckRun()).toMatchObject({ head_sha: pr.headSha, conclusion: 'failure' });
    const report = await readReport(run);
    expect(report.mode).toBe('changed');
    expect(report.findings.map((f) => f.code)).toContain('policy/changed-in-pr');
  });

  it('runs a scheduled full evaluation, writes SARIF, and passes with fail-on: never', async () => {
    const pr = await pullRequestRepo(FINDINGS_BASE, {});
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'schedule', event: { schedule: '17 3 * * 1' }, sha: pr.mergeSha, inputs: { sarif: 'results/mlgate.sarif', 'fail-on': 'never' } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ conclusion: 'success', errors: '1' });
    expect(run.outputs.sarif).toBe(path.join(pr.workspace, 'results/mlgate.sarif'));
    const sarif = JSON.parse(await readFile(run.outputs.sarif!, 'utf8')) as { version: string; runs: Array<{ results: Array<{ ruleId: string; locations?: unknown[] }>; automationDetails: { id: string } }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results.length).toBeGreaterThan(0);
    // The action names the code-scanning category after its check and mode, and every result has a location and a per-code rule.
    expect(sarif.runs[0]!.automationDetails.id).toBe('mlgate/full/');
    expect(sarif.runs[0]!.results.every((r) => r.locations?.length === 1 && r.ruleId.includes('/'))).toBe(true);
    expect(onlyCheckRun()).toMatchObject({ head_sha: pr.mergeSha, conclusion: 'success' });
    expect((await readReport(run)).mode).toBe('full');
  });
});
