import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubApiServer } from '../helpers/github-api-server.js';
import { OpenApiValidator } from '../helpers/openapi-validator.js';

const TOKEN = 'ghs_server_test';
let api: GitHubApiServer;

beforeAll(async () => {
  api = await GitHubApiServer.start({ token: TOKEN });
});
afterAll(async () => {
  await api.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const violationsBefore = api.violations.length;
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `token ${TOKEN}`, 'user-agent': 'test', accept: 'application/vnd.github+json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  const violations = api.violations.splice(violationsBefore);
  return { status: res.status, text, headers: res.headers, violations };
}

const annotation = (line: number) => ({ path: 'a.py', start_line: line, end_line: line, annotation_level: 'warning', message: 'm' });
const SHA = 'a'.repeat(40);

describe('the GitHub API test server', () => {
  it.each([
    ['create a check run', 'POST', '/repos/acme/x/check-runs', { name: 'mlgate', head_sha: SHA, status: 'in_progress', started_at: '2026-11-28T07:00:00Z' }, 201],
    ['list PR files', 'GET', '/repos/acme/x/pulls/3/files?per_page=100&page=2', undefined, 200],
    ['read a file at a ref (encoded slash)', 'GET', '/repos/acme/x/contents/.github%2Fmlgate.yml?ref=main', undefined, 404],
    ['read a file at a ref (plain slashes)', 'GET', '/repos/acme/x/contents/policies/ml.yml?ref=v1', undefined, 404],
  ])('accepts a valid request: %s', async (_name, method, path, body, status) => {
    const r = await call(method, path, body);
    expect(r.violations).toEqual([]);
    expect(r.status).toBe(status);
  });

  it.each([
    ['an unknown endpoint', 'GET', '/repos/acme/x/no-such-thing', undefined, /unknown endpoint/],
    ['a wrong method', 'DELETE', '/repos/acme/x/check-runs', undefined, /unknown endpoint/],
    ['a body missing a required field', 'POST', '/repos/acme/x/check-runs', { name: 'mlgate' }, /required property 'head_sha'/],
    ['a value outside the enum', 'POST', '/repos/acme/x/check-runs', { name: 'm', head_sha: SHA, status: 'running' }, /body\/status must be equal to one of the allowed values/],
    ['a bad date-time', 'POST', '/repos/acme/x/check-runs', { name: 'm', head_sha: SHA, started_at: 'yesterday' }, /started_at must match format "date-time"/],
    ['51 annotations in one request', 'POST', '/repos/acme/x/check-runs', { name: 'm', head_sha: SHA, output: { title: 't', summary: 's', annotations: Array.from({ length: 51 }, (_, i) => annotation(i + 1)) } }, /must NOT have more than 50 items/],
    ['an annotation without end_line', 'POST', '/repos/acme/x/check-runs', { name: 'm', head_sha: SHA, output: { title: 't', summary: 's', annotations: [{ path: 'a', start_line: 1, annotation_level: 'failure', message: 'm' }] } }, /required property 'end_line'/],
    ['a summary over 65,535 characters', 'POST', '/repos/acme/x/check-runs', { name: 'm', head_sha: SHA, output: { title: 't', summary: 'x'.repeat(65_536) } }, /summary must NOT have more than 65535 characters/],
    ['completing without a conclusion', 'PATCH', '/repos/acme/x/check-runs/1', { status: 'completed', output: { summary: 's' } }, /required property 'conclusion'/],
    ['a non-integer path parameter', 'GET', '/repos/acme/x/pulls/three/files', undefined, /path parameter pull_number/],
    ['a per_page that is not a number', 'GET', '/repos/acme/x/pulls/3/files?per_page=all', undefined, /query parameter per_page/],
    ['an unknown query parameter', 'GET', '/repos/acme/x/pulls/3/files?pages=2', undefined, /unknown query parameter pages/],
    ['a body where the operation takes none', 'POST', '/repos/acme/x/check-runs/1/rerequest', { x: 1 }, /takes no request body/],
    ['a body that is not JSON', 'POST', '/repos/acme/x/check-runs', '{not json', /not JSON/],
  ])('rejects %s', async (_name, method, path, body, problem) => {
    const r = await call(method, path, body);
    expect(r.violations.join('\n')).toMatch(problem);
    expect([404, 422]).toContain(r.status);
  });

  it('rejects a request that does not carry the token', async () => {
    const r = await call('GET', '/repos/acme/x/pulls/3/files', undefined, { authorization: 'token other' });
    expect(r.violations.join('\n')).toMatch(/authorization/);
  });

  it('pages the PR files with Link headers and stops at GitHub’s 3,000-file cap', async () => {
    api.state.pullFiles.set(9, Array.from({ length: 3100 }, (_, i) => ({ filename: `f${i}`, status: 'added' as const })));
    const first = await call('GET', '/repos/acme/x/pulls/9/files?per_page=100');
    expect(first.headers.get('link')).toMatch(/page=2>; rel="next".*page=30>; rel="last"/);
    const last = await call('GET', '/repos/acme/x/pulls/9/files?per_page=100&page=30');
    expect(JSON.parse(last.text)).toHaveLength(100);
    expect(last.headers.get('link')).toBeNull();
    const beyond = await call('GET', '/repos/acme/x/pulls/9/files?per_page=100&page=31');
    expect(JSON.parse(beyond.text)).toEqual([]);
  });

  it('serves scripted file contents raw or base64, by ref', async () => {
    api.state.contents.set('acme/policies@v1:ml.yml', 'version: 1\n');
    const raw = await call('GET', '/repos/acme/policies/contents/ml.yml?ref=v1', undefined, { accept: 'application/vnd.github.raw+json' });
    expect(raw.text).toBe('version: 1\n');
    const json = JSON.parse((await call('GET', '/repos/acme/policies/contents/ml.yml?ref=v1')).text) as { content: string };
    expect(Buffer.from(json.content, 'base64').toString()).toBe('version: 1\n');
    expect((await call('GET', '/repos/acme/policies/contents/ml.yml?ref=v2')).status).toBe(404);
  });

  it('answers queued replies first, then the handler, and records everything', async () => {
    api.queue('checks/create', { status: 502, body: 'bad gateway' });
    const body = { name: 'queued', head_sha: SHA };
    expect((await call('POST', '/repos/acme/x/check-runs', body)).status).toBe(502);
    expect((await call('POST', '/repos/acme/x/check-runs', body)).status).toBe(201);
    expect(api.requestsTo('checks/create').slice(-2).map((r) => r.status)).toEqual([502, 201]);
  });

  it('keeps check-run state: annotations appended per update', async () => {
    const created = JSON.parse((await call('POST', '/repos/acme/x/check-runs', { name: 'state', head_sha: SHA, status: 'in_progress' })).text) as { id: number };
    await call('PATCH', `/repos/acme/x/check-runs/${created.id}`, { output: { title: 't', summary: 's', annotations: [annotation(1), annotation(2)] } });
    await call('PATCH', `/repos/acme/x/check-runs/${created.id}`, { status: 'completed', conclusion: 'failure', output: { title: 't', summary: 'done', annotations: [annotation(3)] } });
    const run = api.state.checkRuns.get(created.id)!;
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', batches: [2, 1], output: { summary: 'done' } });
    expect(run.annotations.map((a) => a.start_line)).toEqual([1, 2, 3]);
  });
});

describe('the server’s answers', () => {
  it('conform to the response schemas of the description', async () => {
    const v = OpenApiValidator.shared();
    api.state.pullFiles.set(21, [{ filename: 'b.py', status: 'renamed', previous_filename: 'a.py' }]);
    api.state.contents.set('acme/x@main:dir/p.yml', 'x: 1\n');
    const created = await call('POST', '/repos/acme/x/check-runs', { name: 'schema', head_sha: SHA, status: 'in_progress' });
    const id = (JSON.parse(created.text) as { id: number }).id;
    const updated = await call('PATCH', `/repos/acme/x/check-runs/${id}`, { conclusion: 'success', output: { title: 't', summary: 's' } });
    const files = await call('GET', '/repos/acme/x/pulls/21/files');
    const content = await call('GET', '/repos/acme/x/contents/dir/p.yml?ref=main');
    expect(v.validateResponse('checks/create', 201, JSON.parse(created.text))).toEqual([]);
    expect(v.validateResponse('checks/update', 200, JSON.parse(updated.text))).toEqual([]);
    expect(v.validateResponse('pulls/list-files', 200, JSON.parse(files.text))).toEqual([]);
    expect(v.validateResponse('repos/get-content', 200, JSON.parse(content.text))).toEqual([]);
    // and the check has teeth
    expect(v.validateResponse('checks/create', 201, { ...JSON.parse(created.text), head_sha: 42 }).join('\n')).toMatch(/head_sha must be string/);
    expect(v.validateResponse('pulls/list-files', 200, [{ filename: 'x' }]).join('\n')).toMatch(/required property/);
  });
});

describe('the OpenAPI validator', () => {
  const v = OpenApiValidator.shared();

  it('matches the most specific path template', () => {
    expect(v.match('GET', '/repos/a/b/check-runs/5/annotations')?.op.operationId).toBe('checks/list-annotations');
    expect(v.match('PATCH', '/repos/a/b/check-runs/5')?.op.operationId).toBe('checks/update');
    expect(v.match('GET', '/repos/a/b/contents/a/b/c.yml')).toMatchObject({ op: { operationId: 'repos/get-content' }, params: { path: 'a/b/c.yml' } });
  });

  it('turns OpenAPI nullable into JSON Schema null', () => {
    // `details_url` etc. are plain strings, but `conclusion` in responses is nullable; requests with explicit nulls
    // for a non-nullable field are refused.
    const m = v.match('POST', '/repos/a/b/check-runs')!;
    const problems = v.validate(m, new URLSearchParams(), { 'content-type': 'application/json' }, JSON.stringify({ name: null, head_sha: SHA }));
    expect(problems.join('\n')).toMatch(/body\/name must be string/);
  });

  it('provides the description’s response examples', () => {
    expect(v.example('checks/get', 200)).toMatchObject({ id: expect.any(Number), head_sha: expect.any(String) });
  });
});
