import { describe, expect, it } from 'vitest';
import { parseRemoteUrl } from '../src/inventory/git-origin.js';
import { OWNER, pullRequestEvent, pullRequestRepo, readReport, REPO, runAction, useApiServer } from './action/harness.js';
import { runCli } from './helpers/cli.js';
import { gitIn, makeRepo } from './helpers/repo.js';

describe('parseRemoteUrl', () => {
  it.each([
    ['https://github.com/acme/model.git', { name: 'acme/model', url: 'https://github.com/acme/model' }],
    ['https://x-access-token@github.com/acme/model', { name: 'acme/model', url: 'https://github.com/acme/model' }],
    ['git@github.com:acme/model.v2.git', { name: 'acme/model.v2', url: 'https://github.com/acme/model.v2' }],
    ['ssh://git@ghe.example.com/team/clf.git', { name: 'team/clf', url: 'https://ghe.example.com/team/clf' }],
    ['/srv/git/model.git', undefined],
    ['file:///srv/git/acme/model.git', undefined],
    ['https://gitlab.example.com/group/sub/model.git', undefined],
    ['ext::sh -c touch% /tmp/pwned', undefined],
  ])('%s', (remote, expected) => {
    expect(parseRemoteUrl(remote)).toEqual(expected);
  });
});

describe('the JSON report names its repository', () => {
  it('from --repository, with the commit and branch of HEAD', async () => {
    const dir = await makeRepo({ 'README.md': 'x\n' }, { git: true });
    const head = gitIn(dir, 'rev-parse', 'HEAD').trim();
    const r = runCli(['check', dir, '--repository', 'acme/model', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).repository).toEqual({ name: 'acme/model', commit: head, ref: 'refs/heads/main', url: 'https://github.com/acme/model' });
  });

  it("from the origin remote by default, on its host; a detached HEAD has no ref", async () => {
    const dir = await makeRepo({ 'README.md': 'x\n' }, { git: true });
    gitIn(dir, 'remote', 'add', 'origin', 'git@ghe.example.com:team/clf.git');
    const head = gitIn(dir, 'rev-parse', 'HEAD').trim();
    gitIn(dir, 'checkout', '-q', '--detach');
    const r = runCli(['check', dir, '--format', 'json']);
    expect(JSON.parse(r.stdout).repository).toEqual({ name: 'team/clf', commit: head, ref: null, url: 'https://ghe.example.com/team/clf' });
    // The flag wins over the remote; the remote's host is kept when they agree.
    const same = runCli(['check', dir, '--repository', 'team/clf', '--format', 'json']);
    expect(JSON.parse(same.stdout).repository.url).toBe('https://ghe.example.com/team/clf');
  });

  it('is left out when nothing names the repository, and a malformed --repository is exit 2', async () => {
    const dir = await makeRepo({ 'README.md': 'x\n' });
    const r = runCli(['check', dir, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).not.toHaveProperty('repository');
    const bad = runCli(['check', dir, '--repository', 'model', '--format', 'json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--repository "model": expected OWNER\/NAME/);
    // With a bad --base as well: one located answer, and no git failure left for nobody to hear (a crash trace).
    const repo = await makeRepo({ 'README.md': 'x\n' }, { git: true });
    const both = runCli(['check', repo, '--repository', 'model', '--base', 'no-such-ref']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--repository "model": expected OWNER\/NAME/)]);
  });
});

describe('the action fills it from the event', () => {
  const api = useApiServer();

  it('on a pull request: the head commit and its ref, not the merge commit', async () => {
    const pr = await pullRequestRepo({ 'README.md': 'x\n' }, { 'README.md': 'y\n' });
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'pull_request', event: pullRequestEvent({ ...pr, changedFiles: 1 }), sha: pr.mergeSha });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = (await readReport(run)) as unknown as { repository: unknown };
    expect(report.repository).toEqual({ name: `${OWNER}/${REPO}`, commit: pr.headSha, ref: 'refs/pull/7/head', url: `https://github.com/${OWNER}/${REPO}` });
  });

  it('on a push: the pushed commit and branch', async () => {
    const pr = await pullRequestRepo({ 'README.md': 'x\n' }, {});
    const event = { ref: 'refs/heads/main', before: pr.baseSha, after: pr.mergeSha, repository: { full_name: `${OWNER}/${REPO}`, name: REPO, owner: { login: OWNER } } };
    const run = await runAction({ workspace: pr.workspace, apiUrl: api().url, eventName: 'push', event, sha: pr.mergeSha });
    const report = (await readReport(run)) as unknown as { repository: unknown };
    expect(report.repository).toEqual({ name: `${OWNER}/${REPO}`, commit: pr.mergeSha, ref: 'refs/heads/main', url: `https://github.com/${OWNER}/${REPO}` });
  });
});
