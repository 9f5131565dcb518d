import { describe, expect, it } from 'vitest';
import { badGateway, forbidden, secondaryRateLimit, tooManyRequests, type PullFile } from '../helpers/github-api-server.js';
import { ERROR_POLICY, FINDINGS_BASE, FINDINGS_HEAD, onlyCheckRunOf, OWNER, pullRequestEvent, pullRequestRepo, readReport, REPO, runAction, useApiServer, workflowCommands } from './harness.js';

// The bundled action run as the runner runs it, against the validating API server.
const api = useApiServer();

const onlyCheckRun = () => onlyCheckRunOf(api());

describe('the action when GitHub is unhelpful', () => {
  it('falls back to workflow-command annotations when the token may not write checks (fork PR)', async () => {
    api().on('checks/create', () => forbidden);
    api().on('checks/update', () => forbidden);
    // A hostile file name (a symlink, so it gets a finding) tries to smuggle a workflow command into the log.
    const hostile = 'notes\n::error file=evil.py,line=1::injected\n.txt';
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD, { symlinks: { [hostile]: 'README.md' } });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 2, fork: true }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    // One attempt, no retry storm, nothing else written.
    expect(api().requestsTo('checks/create')).toHaveLength(1);
    expect(api().requests).toHaveLength(1);
    const commands = workflowCommands(run.stdout);
    const explanations = commands.filter((c) => c.command === 'warning' && /read-only token/.test(c.message));
    expect(explanations).toHaveLength(1);
    const errors = commands.filter((c) => c.command === 'error');
    expect(errors.map((c) => `${c.props.file}:${c.props.line}`).sort()).toEqual(['THREAT_MODEL.md:1', 'THREAT_MODEL.md:11']);
    // Most severe first: the errors come before any warning or notice about findings.
    const findingCommands = commands.filter((c) => /^[a-z-]+\/[a-z-]+( \(waived\))?$/.test(c.props.title ?? ''));
    expect(findingCommands.length).toBeGreaterThanOrEqual(3);
    expect(findingCommands.slice(0, 2).map((c) => c.command)).toEqual(['error', 'error']);
    const hostileFinding = commands.find((c) => c.props.file === hostile);
    expect(hostileFinding?.command).toBe('warning');
    expect(commands.some((c) => c.props.file === 'evil.py' || c.message === 'injected')).toBe(false);
    expect(run.summary).toContain('Gate failed');
    expect(run.outputs.conclusion).toBe('failure');
  });

  it('explains a missing checks: write on a same-repository PR', async () => {
    api().on('checks/create', () => forbidden);
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });
    expect(run.code).toBe(1);
    expect(workflowCommands(run.stdout).filter((c) => c.command === 'warning' && /checks: write/.test(c.message))).toHaveLength(1);
  });

  it('completes despite a 502 and secondary rate limits along the way', async () => {
    api().queue('checks/create', badGateway);
    api().queue('checks/update', secondaryRateLimit(1), tooManyRequests(1));
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    const check = onlyCheckRun();
    expect(check).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(check.annotations).toHaveLength(2);
    expect(api().requestsTo('checks/create').map((r) => r.status)).toEqual([502, 201]);
    expect(api().requestsTo('checks/update').map((r) => r.status)).toEqual([403, 429, 200]);
    // retry-after was honoured: the retries waited about a second each.
    const updates = api().requestsTo('checks/update');
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(900);
    expect(updates[2]!.at - updates[1]!.at).toBeGreaterThanOrEqual(900);
  });

  it('reads the base policy and the changed files through the API when the checkout is shallow', async () => {
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD, { shallow: true });
    api().state.contents.set(`${OWNER}/${REPO}@${pr.baseSha}:.github/mlgate.yml`, ERROR_POLICY);
    api().state.pullFiles.set(7, [{ filename: 'models/clf/config.json', status: 'modified' }]);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(api().requestsTo('repos/get-content').map((r) => r.query)).toEqual([`?ref=${pr.baseSha}`]);
    expect(api().requestsTo('pulls/list-files')).toHaveLength(1);
    const check = onlyCheckRun();
    expect(check.annotations.map((a) => `${a.path}:${a.start_line}`).sort()).toEqual(['THREAT_MODEL.md:1', 'THREAT_MODEL.md:11']);
  });

  it.each([
    ['the payload counts the files', 3500, 0],
    ['the payload has no count and the listing stops at 3,000', undefined, 30],
  ])('falls back to a full evaluation at the API’s 3,000-file cap: %s', async (_name, changedFiles, pages) => {
    const pr = await pullRequestRepo(FINDINGS_BASE, FINDINGS_HEAD, { shallow: true });
    api().state.contents.set(`${OWNER}/${REPO}@${pr.baseSha}:.github/mlgate.yml`, ERROR_POLICY);
    const files: PullFile[] = Array.from({ length: 3500 }, (_, i) => ({ filename: `data/shard-${i}.csv`, status: 'added' }));
    api().state.pullFiles.set(7, files);
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles }), sha: pr.mergeSha });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    // 100 a page; none at all when the payload already says the list would be cut short.
    expect(api().requestsTo('pulls/list-files')).toHaveLength(pages);
    const report = await readReport(run);
    expect(report.mode).toBe('full');
    const capped = report.findings.find((f) => f.code === 'inventory/changed-files-capped');
    expect(capped).toMatchObject({ level: 'info' });
    expect(capped!.message).toContain(changedFiles === undefined ? '3000 files' : '3500 files');
    // Full mode still judges the repository: the bogus ATLAS id is found.
    expect(report.findings.map((f) => f.code)).toContain('threat-model/unknown-atlas-id');
  });
});
