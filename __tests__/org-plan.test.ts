import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/logger.js';
import { MAX_MATRIX_JOBS, parseBatch, planBatches, type Matrix } from '../src/org/batch.js';
import { planSweep } from '../src/org/plan.js';
import { CLI, type CliResult } from './helpers/cli.js';
import { GitHubApiServer, secondaryRateLimit, type OrgRepo } from './helpers/github-api-server.js';

const TOKEN = 'ghs_plantoken';

/** 1,000 repositories: every 10th archived, every 7th a fork, two in three tagged `ml`, a few sandboxes. */
function organisation(): OrgRepo[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    name: i % 50 === 0 ? `sandbox-${i}` : `model-${String(i).padStart(4, '0')}`,
    archived: i % 10 === 3,
    fork: i % 7 === 5,
    topics: i % 3 === 0 ? ['nlp'] : ['ml', 'vision'],
    default_branch: i % 4 === 0 ? 'master' : 'main',
  }));
}
const ORG = organisation();
const eligible = (r: OrgRepo) => !r.archived && !r.fork;

function runCliAsync(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** What GitHub accepts as `strategy.matrix` from `fromJSON`: at most 256 jobs, each with a non-empty batch. */
function assertValidMatrix(m: Matrix, expected: string[]): void {
  expect(Object.keys(m)).toEqual(['include']);
  expect(m.include.length).toBeGreaterThan(0);
  expect(m.include.length).toBeLessThanOrEqual(MAX_MATRIX_JOBS);
  m.include.forEach((job, i) => {
    expect(job.batch).toBe(i + 1);
    expect(job.repositories.length).toBeGreaterThan(0);
    // What org check reads back: the entry as the workflow hands it over.
    expect(parseBatch(JSON.stringify(job))).toEqual(job.repositories);
  });
  expect(m.include.flatMap((j) => j.repositories.map((r) => r.name)).sort()).toEqual([...expected].sort());
  expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThan(1024 * 1024);
}

let server: GitHubApiServer;
let dir: string;
beforeAll(async () => {
  server = await GitHubApiServer.start({ token: TOKEN });
  server.state.orgRepos.set('acme', ORG);
  dir = await mkdtemp(path.join(tmpdir(), 'mlgate-plan-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('org plan over an organisation of 1,000 repositories', () => {
  it('pages through the listing and prints a valid matrix of the active, non-fork repositories', async () => {
    server.requests.length = 0;
    const out = path.join(dir, 'github-output');
    await writeFile(out, '');
    const r = await runCliAsync(['org', 'plan', '--org', 'acme', '--github-output'], { GITHUB_API_URL: server.url, GITHUB_TOKEN: TOKEN, GITHUB_OUTPUT: out });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const pages = server.requestsTo('repos/list-for-org');
    expect(pages).toHaveLength(10);
    expect(pages.map((p) => new URLSearchParams(p.query).get('per_page'))).toEqual(Array(10).fill('100'));
    expect(server.violations).toEqual([]);
    const matrix = JSON.parse(r.stdout) as Matrix;
    const expected = ORG.filter(eligible).map((x) => `acme/${x.name}`);
    assertValidMatrix(matrix, expected);
    expect(matrix.include.every((j) => j.repositories.length <= 20)).toBe(true);
    expect(matrix.include[0]!.repositories[0]).toEqual({ name: 'acme/model-0001', branch: 'main' });
    expect(r.stderr).toMatch(new RegExp(`acme: 1000 repositories listed, ${expected.length} to check in ${Math.ceil(expected.length / 20)} batches \\(left out: 100 archived, \\d+ forks\\)`));
    // The workflow reads both outputs.
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toEqual([`matrix=${JSON.stringify(matrix)}`, `repositories=${expected.length}`]);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it('filters by topic, exclude globs and a repositories file', async () => {
    const list = path.join(dir, 'repos.txt');
    await writeFile(list, '# the vision team\nmodel-0001\nacme/model-0002\nsandbox-100\nmodel-9999\n');
    const topic = await planSweep({ org: 'acme', topic: 'ml', exclude: ['sandbox-*'], includeArchived: false, includeForks: false, token: TOKEN, apiUrl: server.url, logger: silentLogger });
    const expected = ORG.filter((x) => eligible(x) && x.topics!.includes('ml') && !x.name.startsWith('sandbox-')).map((x) => `acme/${x.name}`);
    assertValidMatrix(topic.batching.matrix, expected);
    expect(topic.listing.skipped.excluded).toBeGreaterThan(0);

    const r = await runCliAsync(['org', 'plan', '--org', 'acme', '--repos-file', list, '--include-archived', '--batch', '2'], { GITHUB_API_URL: server.url, GITHUB_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as Matrix;
    assertValidMatrix(m, ['acme/model-0001', 'acme/model-0002', 'acme/sandbox-100']);
    expect(m.include.map((j) => j.repositories.length)).toEqual([2, 1]);
    expect(r.stderr).toMatch(/1 repository of .*repos\.txt not listed by the organisation .*acme\/model-9999/);
  });

  it('makes batches larger rather than exceed 256 jobs', async () => {
    const r = await runCliAsync(['org', 'plan', '--org', 'acme', '--batch', '1', '--include-forks', '--include-archived'], { GITHUB_API_URL: server.url, GITHUB_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as Matrix;
    assertValidMatrix(
      m,
      ORG.map((x) => `acme/${x.name}`),
    );
    expect(m.include).toHaveLength(250);
    expect(m.include.every((j) => j.repositories.length === 4)).toBe(true);
    expect(r.stderr).toMatch(/1000 repositories in batches of 1 would need 1000 jobs, more than GitHub's 256 per matrix: batches of 4 instead/);
  });

  it('waits out a secondary rate limit and carries on', async () => {
    server.requests.length = 0;
    server.queue('repos/list-for-org', secondaryRateLimit(1));
    const listing = server.state.orgRepos.get('acme')!;
    const plan = await planSweep({ org: 'acme', exclude: [], includeArchived: true, includeForks: true, token: TOKEN, apiUrl: server.url, logger: silentLogger });
    expect(plan.listing.listed).toBe(listing.length);
    const statuses = server.requestsTo('repos/list-for-org').map((x) => x.status);
    expect(statuses.filter((s) => s === 403)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(server.violations).toEqual([]);
  });

  it('says which organisation cannot be listed, exit 2', async () => {
    const r = await runCliAsync(['org', 'plan', '--org', 'nosuch'], { GITHUB_API_URL: server.url, GITHUB_TOKEN: TOKEN });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--org nosuch: no such organisation, or the token cannot see it \(HTTP 404\)/);
    const none = await runCliAsync(['org', 'plan', '--org', 'acme'], { GITHUB_API_URL: server.url, GITHUB_TOKEN: '', GH_TOKEN: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no token\. Set GITHUB_TOKEN/);
  });
});

describe('planBatches', () => {
  const repos = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `o/r${i}` }));
  it('keeps the asked size while it fits in 256 jobs, and grows it past that', () => {
    expect(planBatches(repos(0), 20).matrix.include).toEqual([]);
    expect(planBatches(repos(5120), 20)).toMatchObject({ size: 20 });
    expect(planBatches(repos(5120), 20).matrix.include).toHaveLength(256);
    const big = planBatches(repos(5121), 20);
    expect(big.size).toBe(21);
    expect(big.matrix.include.length).toBeLessThanOrEqual(256);
    expect(big.note).toMatch(/batches of 21 instead/);
  });
});
