import { describe, expect, it } from 'vitest';
import { ERROR_POLICY, onlyCheckRunOf, pullRequestEvent, pullRequestRepo, readReport, runAction, threatModel, useApiServer, workflowCommands } from './harness.js';

// The action's `policy` input obeys the CLI's rules (issue 10): one function, src/policies/locate.ts, decides.
const api = useApiServer();

const errorOf = (stdout: string) => workflowCommands(stdout).find((c) => c.command === 'error')?.message ?? '';

describe('the action: which policy', () => {
  it('exits 2 when the policy input names a file the base commit does not have', async () => {
    const pr = await pullRequestRepo({ 'THREAT_MODEL.md': threatModel() }, { 'README.md': 'x\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha, inputs: { policy: 'policies/ml.yml' } });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(errorOf(run.stdout)).toContain(`the "policy" input policies/ml.yml: no such policy file at the base commit ${pr.baseSha.slice(0, 12)}`);
    expect(onlyCheckRunOf(api())).toMatchObject({ conclusion: 'failure', output: { title: 'Configuration error' } });
  });

  it('reads a named policy that exists, and applies mlgate:recommended when only the default is absent', async () => {
    const pr = await pullRequestRepo({ 'policies/ml.yml': ERROR_POLICY, 'THREAT_MODEL.md': '# TM\n' }, { 'README.md': 'x\n' });
    const named = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'workflow_dispatch', event: {}, sha: pr.mergeSha, inputs: { policy: 'policies/ml.yml' } });
    expect(named.code, named.stdout + named.stderr).toBe(1);
    expect((await readReport(named)).findings.filter((f) => f.code.startsWith('threat-model/')).every((f) => f.level === 'error')).toBe(true);
    const unnamed = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'workflow_dispatch', event: {}, sha: pr.mergeSha });
    expect(unnamed.code, unnamed.stdout + unnamed.stderr).toBe(0);
    expect(unnamed.stdout).toContain('policy mlgate:recommended (built in)');
  });

  it('exits 2 for a policy saved as .github/mlgate.yaml, naming what was found and what is read', async () => {
    const pr = await pullRequestRepo({ '.github/mlgate.yaml': ERROR_POLICY, 'THREAT_MODEL.md': threatModel() }, { 'README.md': 'x\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'workflow_dispatch', event: {}, sha: pr.mergeSha });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(errorOf(run.stdout)).toContain('found policy file .github/mlgate.yaml: mlgate reads .github/mlgate.yml, which does not exist');
  });
});
