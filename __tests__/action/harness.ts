import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import { GitHubApiServer } from '../helpers/github-api-server.js';
import { gitIn, writeTree, type FileTree } from '../helpers/repo.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BUNDLE = path.join(ROOT, 'dist/index.js');
/** The Node that runs the bundle: the runner's node24 in CI (`.ci/run` sets it), else this one. */
export const NODE = process.env.MLGATE_ACTION_NODE ?? process.execPath;
export const TOKEN = 'ghs_TestTokenThatMustNeverBePrinted0123';
export const OWNER = 'acme';
export const REPO = 'classifier';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The runner's environment for inputs: `INPUT_<NAME>` upper-cased, dashes kept, action.yml defaults applied. */
export function inputEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const action = load(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    let value = overrides[name] ?? spec.default ?? '';
    // The runner evaluates expressions before the action starts.
    if (value === '${{ github.token }}') value = TOKEN;
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  return env;
}

export interface PullRequestRepo {
  /** The repository as the runner checked it out. */
  workspace: string;
  baseSha: string;
  headSha: string;
  /** refs/pull/N/merge: what GITHUB_SHA names on pull_request events. */
  mergeSha: string;
}

/**
 * A repository with a base commit on main, a PR branch on top and the merge
 * commit GitHub builds, checked out as actions/checkout does: the merge commit
 * detached, either with full history (`fetch-depth: 0`) or shallow (depth 1,
 * no base or head commit: the adapter must use the API).
 */
export async function pullRequestRepo(base: FileTree, head: FileTree, opts: { shallow?: boolean; deleted?: string[]; symlinks?: Record<string, string> } = {}): Promise<PullRequestRepo> {
  const origin = await tempDir('mlgate-origin-');
  gitIn(origin, 'init', '-q', '-b', 'main');
  await writeTree(origin, base);
  gitIn(origin, 'add', '-A');
  gitIn(origin, 'commit', '-q', '--allow-empty', '-m', 'base');
  const baseSha = gitIn(origin, 'rev-parse', 'HEAD').trim();
  gitIn(origin, 'checkout', '-q', '-b', 'feature');
  await writeTree(origin, head);
  for (const d of opts.deleted ?? []) gitIn(origin, 'rm', '-q', d);
  for (const [link, target] of Object.entries(opts.symlinks ?? {})) await symlink(target, path.join(origin, link));
  gitIn(origin, 'add', '-A');
  gitIn(origin, 'commit', '-q', '--allow-empty', '-m', 'change');
  const headSha = gitIn(origin, 'rev-parse', 'HEAD').trim();
  gitIn(origin, 'checkout', '-q', 'main');
  gitIn(origin, 'commit', '-q', '--allow-empty', '-m', 'main moved on');
  gitIn(origin, 'checkout', '-q', '--detach', 'main');
  gitIn(origin, 'merge', '-q', '--no-ff', '-m', 'Merge feature into main', headSha);
  const mergeSha = gitIn(origin, 'rev-parse', 'HEAD').trim();
  gitIn(origin, 'update-ref', 'refs/pull/7/merge', mergeSha);

  const workspace = await tempDir('mlgate-ws-');
  gitIn(workspace, 'init', '-q');
  const depth = opts.shallow ? ['--depth=1'] : [];
  gitIn(workspace, 'fetch', '-q', ...depth, `file://${origin}`, '+refs/heads/*:refs/remotes/origin/*', '+refs/pull/7/merge:refs/remotes/pull/7/merge');
  gitIn(workspace, 'checkout', '-q', '--detach', 'refs/remotes/pull/7/merge');
  return { workspace, baseSha, headSha, mergeSha };
}

/** A realistic `pull_request` payload (the fields GitHub sends that matter here, with their real shapes). */
export function pullRequestEvent(pr: { baseSha: string; headSha: string; changedFiles: number | undefined; fork?: boolean; number?: number }): Record<string, unknown> {
  const number = pr.number ?? 7;
  const repository = {
    id: 1296269,
    node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    private: false,
    owner: { login: OWNER, id: 1, type: 'Organization' },
    html_url: `https://github.com/${OWNER}/${REPO}`,
    default_branch: 'main',
  };
  const headRepo = pr.fork ? { ...repository, id: 99, name: REPO, full_name: `mallory/${REPO}`, owner: { login: 'mallory', id: 2, type: 'User' }, fork: true } : repository;
  return {
    action: 'synchronize',
    number,
    pull_request: {
      url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${number}`,
      id: 1_000_000 + number,
      number,
      state: 'open',
      title: 'Retrain the classifier',
      user: { login: pr.fork ? 'mallory' : 'alice', id: 3, type: 'User' },
      head: { label: `${headRepo.owner.login}:feature`, ref: 'feature', sha: pr.headSha, repo: headRepo, user: headRepo.owner },
      base: { label: `${OWNER}:main`, ref: 'main', sha: pr.baseSha, repo: repository, user: repository.owner },
      merged: false,
      mergeable: null,
      commits: 1,
      additions: 10,
      deletions: 1,
      ...(pr.changedFiles === undefined ? {} : { changed_files: pr.changedFiles }),
    },
    repository,
    sender: { login: pr.fork ? 'mallory' : 'alice', id: 3, type: 'User' },
  };
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The environment file the action must never write to. */
  envFile: string;
  durationMs: number;
}

/** Runs the bundled action the way the runner does, and collects what it left behind. */
export async function runAction(opts: {
  workspace: string;
  apiUrl: string;
  eventName: string;
  event: Record<string, unknown>;
  /** Written instead of `event`, to feed the action a broken payload. */
  rawEvent?: string;
  sha: string;
  inputs?: Record<string, string>;
  /** Further runner environment (e.g. the OIDC token request variables of `id-token: write`). */
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ActionRun> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  const runner = await tempDir('mlgate-runner-');
  const files = {
    event: path.join(runner, 'event.json'),
    output: path.join(runner, 'output'),
    summary: path.join(runner, 'step_summary'),
    env: path.join(runner, 'env'),
    path: path.join(runner, 'path'),
    temp: path.join(runner, 'temp'),
  };
  await mkdir(files.temp);
  await writeFile(files.event, opts.rawEvent ?? JSON.stringify(opts.event, null, 2));
  for (const f of [files.output, files.summary, files.env, files.path]) await writeFile(f, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? runner,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: opts.eventName,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_REPOSITORY_OWNER: OWNER,
    GITHUB_SHA: opts.sha,
    GITHUB_REF: opts.eventName.startsWith('pull_request') ? 'refs/pull/7/merge' : 'refs/heads/main',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_API_URL: opts.apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_GRAPHQL_URL: `${opts.apiUrl}/graphql`,
    GITHUB_RUN_ID: '123456789',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'gate',
    GITHUB_WORKFLOW: 'mlgate',
    GITHUB_ACTION: '__mlgate',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    RUNNER_TEMP: files.temp,
    RUNNER_OS: 'Linux',
    ...inputEnv(opts.inputs),
    ...opts.env,
  };
  const started = Date.now();
  const child = spawn(NODE, [BUNDLE], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const durationMs = Date.now() - started;
  const envFile = (await readFile(files.env, 'utf8')) + (await readFile(files.path, 'utf8'));
  return { code, stdout, stderr, outputs: parseOutputs(await readFile(files.output, 'utf8')), summary: await readFile(files.summary, 'utf8'), envFile, durationMs };
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}

/** Workflow commands the runner would read from stdout (`::error file=...::message`). */
export function workflowCommands(stdout: string): Array<{ command: string; props: Record<string, string>; message: string }> {
  const out = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
      const eq = kv.indexOf('=');
      props[kv.slice(0, eq)] = unescape(kv.slice(eq + 1));
    }
    out.push({ command: m[1]!, props, message: unescape(m[3]!) });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

/** A policy that makes the threat-model rule's findings errors. */
export const ERROR_POLICY = 'version: 1\nrules:\n  threat-model:\n    level: error\n';

/** A threat model that passes the rule, reviewed recently. */
export function threatModel(extra = ''): string {
  return `---\nlast-reviewed: ${new Date().toISOString().slice(0, 10)}\n---\n# Threat model\n## Assets\nThe classifier.\n## Threats\nPoisoned training data (AML.T0020).\n## Mitigations\nProvenance checks.\n${extra}`;
}

/** A fresh validating API server per test; the test fails if any request departed from GitHub's description. */
export function useApiServer(): () => GitHubApiServer {
  let api: GitHubApiServer | undefined;
  beforeEach(async () => {
    api = await GitHubApiServer.start({ token: TOKEN });
  });
  afterEach(async () => {
    await api!.close();
    expect(api!.violations).toEqual([]);
  });
  return () => api!;
}

/** The report the action wrote (its `report` output). */
export async function readReport(run: ActionRun): Promise<{ mode: string; conclusion: string; findings: Array<{ code: string; level: string; message: string }> }> {
  return JSON.parse(await readFile(run.outputs.report!, 'utf8'));
}

/** Base: an error-level policy and a threat model citing one bogus ATLAS id (line 11); the PR touches a model. */
export const FINDINGS_BASE = {
  '.github/mlgate.yml': ERROR_POLICY,
  'THREAT_MODEL.md': threatModel('Also AML.T9999 here.\n'),
  'models/clf/config.json': '{"layers": 2}\n',
};
export const FINDINGS_HEAD = { 'models/clf/config.json': '{"layers": 3}\n' };

/** The one check run a test expects the action to have created. */
export function onlyCheckRunOf(api: GitHubApiServer) {
  expect(api.state.checkRuns.size).toBe(1);
  return [...api.state.checkRuns.values()][0]!;
}
