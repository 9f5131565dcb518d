import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fit, MAX_CHECK_ANNOTATIONS, publish, titleOf } from '../../src/action/publish.js';
import type { CheckResult, CheckRun } from '../../src/github/check-run.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import type { Finding } from '../../src/core/types.js';
import type { Report } from '../../src/report/types.js';
import { CHECK_OUTPUT_LIMIT } from '../../src/github/check-run.js';
import { createGitHubClient, httpStatus, isPermissionDenied } from '../../src/github/client.js';
import { badGateway, forbidden, GitHubApiServer, secondaryRateLimit } from '../helpers/github-api-server.js';
import { makeRepo } from '../helpers/repo.js';

const TOKEN = 'ghs_client';
const REPO = { owner: 'acme', repo: 'clf' };
let api: GitHubApiServer;

beforeAll(async () => {
  api = await GitHubApiServer.start({ token: TOKEN });
  api.state.pullFiles.set(1, [{ filename: 'a.py', status: 'modified' }]);
});
afterAll(async () => {
  await api.close();
  expect(api.violations).toEqual([]);
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: () => {}, info: (m) => lines.push(m), warning: (m) => lines.push(m), error: (m) => lines.push(m) };
}

describe('the API client', () => {
  it('retries a 502 and succeeds', async () => {
    api.queue('pulls/list-files', badGateway);
    const before = api.requestsTo('pulls/list-files').length;
    const { data } = await (await createGitHubClient({ token: TOKEN, logger: silentLogger, baseUrl: api.url })).rest.pulls.listFiles({ ...REPO, pull_number: 1 });
    expect(data.map((f) => f.filename)).toEqual(['a.py']);
    expect(api.requestsTo('pulls/list-files').slice(before).map((r) => r.status)).toEqual([502, 200]);
  });

  it('does not retry a 403 for a missing permission', async () => {
    api.queue('pulls/list-files', forbidden);
    const before = api.requestsTo('pulls/list-files').length;
    const err = await (await createGitHubClient({ token: TOKEN, logger: silentLogger, baseUrl: api.url }))
      .rest.pulls.listFiles({ ...REPO, pull_number: 1 })
      .catch((e: unknown) => e);
    expect(httpStatus(err)).toBe(403);
    expect(isPermissionDenied(err)).toBe(true);
    expect(api.requestsTo('pulls/list-files').length - before).toBe(1);
  });

  it('waits out a short secondary rate limit', async () => {
    api.queue('pulls/list-files', secondaryRateLimit(1));
    const log = recordingLogger();
    const started = Date.now();
    await (await createGitHubClient({ token: TOKEN, logger: log, baseUrl: api.url })).rest.pulls.listFiles({ ...REPO, pull_number: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(log.lines.join('\n')).toMatch(/secondary rate limit .* retrying in 1s/);
  });

  it('gives up at once on a rate limit longer than it may wait, and it is not a permission error', async () => {
    api.queue('pulls/list-files', secondaryRateLimit(600));
    const log = recordingLogger();
    const started = Date.now();
    const err = await (await createGitHubClient({ token: TOKEN, logger: log, baseUrl: api.url, maxWaitSeconds: 120 }))
      .rest.pulls.listFiles({ ...REPO, pull_number: 1 })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(httpStatus(err)).toBe(403);
    expect(isPermissionDenied(err)).toBe(false);
    expect(log.lines.join('\n')).toMatch(/not waiting 600s/);
  });
});

function report(findings: Finding[]): Report {
  return {
    version: 1,
    tool: { name: 'mlgate', version: '0.1.0' },
    mode: 'full',
    conclusion: 'failure',
    counts: { error: findings.length, warning: 0, info: 0, waived: 0 },
    findings,
    rules: [{ id: 'threat-model', level: 'error', evaluated: true }],
    stats: { files: 1, bytesHashed: 0, durationMs: 1 },
    exceptions: [],
    failOn: 'error',
  };
}

describe('fitting the summary', () => {
  it('keeps a huge report with multi-byte paths within the Checks API limit, saying where the rest is', () => {
    const findings: Finding[] = Array.from({ length: 3000 }, (_, i) => ({
      rule: 'threat-model',
      code: 'threat-model/unknown-atlas-id',
      level: 'error',
      message: `AML.T9${i} is not an ATLAS id — 数据集/模型 ${'é'.repeat(20)}`,
      path: `模型/数据/${i}.md`,
      line: i + 1,
      help: 'https://github.com/mlgate/mlgate/blob/v0.1.0/docs/rules/threat-model.md',
      references: [],
      fingerprint: String(i),
      waived: null,
    }));
    const text = fit(report(findings), CHECK_OUTPUT_LIMIT, 'see the job summary');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(text).toContain('see the job summary');
    expect(text).toContain('threat-model.md');
  });

  it.each([
    [2, 5, 0, '2 errors, 5 warnings'],
    [1, 1, 0, '1 error, 1 warning'],
    [0, 0, 3, '0 errors, 0 warnings, 3 waived'],
  ])('titles %i errors, %i warnings, %i waived', (e, w, x, title) => expect(titleOf(e, w, x)).toBe(title));
});

describe('publish', () => {
  it('annotates at most the cap, most severe first, and says where the rest are', async () => {
    const n = MAX_CHECK_ANNOTATIONS + 100;
    const findings: Finding[] = Array.from({ length: n }, (_, i) => ({
      rule: 'threat-model',
      level: i < 10 ? 'error' : 'warning',
      message: `finding ${i}`,
      path: `f${n - i}.md`,
      line: 1,
      help: 'https://example.test/h',
      references: [],
      fingerprint: String(i),
      waived: null,
    }));
    let sent: CheckResult | undefined;
    const check = { complete: async (r: CheckResult) => void (sent = r) } as unknown as CheckRun;
    const inputs = { policy: '.github/mlgate.yml', token: 't', mode: 'auto' as const, failOn: 'error' as const, checkName: 'mlgate', sarif: '' };
    const dir = await makeRepo({});
    await publish({ report: report(findings), inputs, check, root: dir, links: { run: 'https://github.com/acme/clf/actions/runs/1' }, tempDir: dir, logger: silentLogger });
    expect(sent!.annotations).toHaveLength(MAX_CHECK_ANNOTATIONS);
    expect(sent!.annotations.slice(0, 10).every((a) => a.annotation_level === 'failure')).toBe(true);
    expect(sent!.summary).toContain(`the other 100 are listed in the job summary of this run (https://github.com/acme/clf/actions/runs/1)`);
    expect(Buffer.byteLength(sent!.summary)).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
  });
});
