import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

const ROOT = path.resolve(__dirname, '..');
const WORKFLOWS = path.join(ROOT, '.github/workflows');
const names = (await readdir(WORKFLOWS)).filter((f) => f.endsWith('.yml')).sort();
const texts = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(path.join(WORKFLOWS, n), 'utf8')] as const)));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  'timeout-minutes': number;
  permissions: Record<string, string>;
  needs?: string | string[];
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
const flows = Object.fromEntries(names.map((n) => [n, parse(texts[n]!) as Workflow]));

const PIN_WORKFLOWS = 'version: 1\nrules:\n  dependency-pinning:\n    level: error\n    ecosystems: [github-actions]\n';
const work = await mkdtemp(path.join(tmpdir(), 'mlgate-self-'));
afterAll(() => rm(work, { recursive: true, force: true }));

interface JsonReport {
  conclusion: string;
  findings: { rule: string; code?: string; level: string; path?: string; line?: number }[];
}
const check = (args: string[], cwd: string) => {
  const r = runCli(['check', ...args, '--format', 'json'], { cwd });
  return { code: r.code, report: JSON.parse(r.stdout) as JsonReport, stderr: r.stderr };
};

describe("the project's own workflows", () => {
  it('are ci, release and self-gate', () => {
    expect(names).toEqual(['ci.yml', 'release.yml', 'self-gate.yml']);
  });

  it('pass mlgate dependency-pinning on the repository itself, with no finding at all', async () => {
    const policy = path.join(work, 'pin-workflows.yml');
    await writeFile(policy, PIN_WORKFLOWS);
    const r = check(['.', '--policy', policy], ROOT);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('would fail it with one action moved to a tag (the rule reads these very files)', async () => {
    const loose = texts['ci.yml']!.replace(/actions\/setup-node@[0-9a-f]{40}/, 'actions/setup-node@v7');
    const repo = await makeRepo({ '.github/workflows/ci.yml': loose, '.github/mlgate.yml': PIN_WORKFLOWS }, { git: true });
    const r = check(['.'], repo);
    expect(r.code).toBe(1);
    const line = loose.split('\n').findIndex((l) => l.includes('setup-node@v7')) + 1;
    expect(r.report.findings).toEqual([expect.objectContaining({ code: 'dependency-pinning/unpinned-action', path: '.github/workflows/ci.yml', line })]);
  });

  it("pass the repository's own policy (.github/mlgate.yml), which self-gate.yml applies", () => {
    const r = check(['.'], ROOT);
    expect(r.report.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(r.report.conclusion).toBe('success');
    expect(r.code).toBe(0);
  });

  it.each(names)('%s: least-privilege permissions, a timeout, and steps in every job', (name) => {
    const wf = flows[name]!;
    expect(wf.name).toBeTruthy();
    expect(wf.permissions).toEqual({});
    expect(Object.keys(wf.jobs).length).toBeGreaterThan(0);
    for (const job of Object.values(wf.jobs)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      expect(job['timeout-minutes']).toBeGreaterThan(0);
      expect(job.permissions).toBeTypeOf('object');
      for (const level of Object.values(job.permissions)) expect(['read', 'write']).toContain(level);
      expect(job.steps.length).toBeGreaterThan(0);
    }
  });

  it.each(names)('%s: every action at a full commit SHA with its version in a comment; checkouts keep no credentials', (name) => {
    const lines = texts[name]!.split('\n').filter((l) => /^\s*-?\s*uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/uses: (\.\/|[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$)/);
    for (const job of Object.values(flows[name]!.jobs)) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) expect(step.with?.['persist-credentials']).toBe(false);
    }
  });

  it.each(names)('%s: no expression expanded inside a run script, no privileged trigger', (name) => {
    const wf = flows[name]!;
    expect(Object.keys(wf.on)).not.toContain('pull_request_target');
    expect(Object.keys(wf.on)).not.toContain('workflow_run');
    for (const job of Object.values(wf.jobs)) for (const step of job.steps) if (step.run) expect(step.run).not.toContain('${{');
  });

  it('ci runs .ci/run on pull requests and pushes under the Node lines package.json supports', async () => {
    const ci = flows['ci.yml']!;
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    const job = Object.values(ci.jobs)[0]! as Job & { strategy: { matrix: { node: string[] } } };
    expect(job.strategy.matrix.node).toEqual(['20', '22', '24']);
    const engines = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    for (const n of job.strategy.matrix.node) expect(engines).toMatch(new RegExp(`\\^${n}\\.`));
    expect(job.permissions).toEqual({ contents: 'read' });
    expect(job.steps.map((s) => s.run)).toContain('bash .ci/run');
  });

  it('release publishes with provenance only after verifying, and only its jobs that need them may write', () => {
    const rel = flows['release.yml']!;
    expect(rel.on).toEqual({ push: { tags: ['v*.*.*'] } });
    const { verify, npm, 'github-release': gh } = rel.jobs;
    expect(verify!.steps.map((s) => s.run)).toContain('bash .ci/run');
    expect(npm!.needs).toBe('verify');
    expect(gh!.needs).toBe('npm');
    expect(npm!.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(npm!.steps.map((s) => s.run)).toContain('npm publish --provenance --access public');
    expect(gh!.permissions).toEqual({ contents: 'write' });
    expect(verify!.permissions).toEqual({ contents: 'read' });
    // A release never restores a cache a pull request could have written.
    for (const job of [verify!, npm!]) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/setup-node@'))) expect(step.with?.['package-manager-cache']).toBe(false);
    }
    expect(gh!.steps.some((s) => s.run?.includes('gh release create "$GITHUB_REF_NAME" --verify-tag'))).toBe(true);
    expect(gh!.steps.some((s) => s.run?.includes('refs/tags/$major'))).toBe(true);
  });

  it('self-gate runs the action from the checkout under the repository policy', () => {
    const job = Object.values(flows['self-gate.yml']!.jobs)[0]!;
    expect(job.steps.at(-1)).toEqual({ uses: './', with: { policy: '.github/mlgate.yml' } });
    expect(job.permissions).toEqual({ contents: 'read', checks: 'write', 'pull-requests': 'read' });
  });
});

describe('the release notes step', () => {
  it('extracts exactly the version section of CHANGELOG.md', async () => {
    const step = flows['release.yml']!.jobs['github-release']!.steps.find((s) => s.run?.includes('awk'))!;
    const awk = /awk .*CHANGELOG\.md/.exec(step.run!)![0];
    const { spawnSync } = await import('node:child_process');
    const version = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = spawnSync('bash', ['-c', `version=${version}; ${awk}`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const changelog = await readFile(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
    const start = changelog.indexOf('\n', changelog.indexOf(`## [${version}]`)) + 1;
    const end = changelog.indexOf('\n## [', start);
    expect(r.stdout).toBe(changelog.slice(start, end < 0 ? changelog.search(/^\[Unreleased\]:/m) : end + 1));
    expect(r.stdout).toMatch(/^### Added$/m);
  });
});
