import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenApiValidator, type MatchedOperation } from './openapi-validator.js';

/** What a handler answers; a string body is sent as is, anything else as JSON. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ApiRequest {
  method: string;
  /** Raw path as sent, without the query. */
  path: string;
  operationId: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | undefined;
  query: string;
  body: unknown;
  status: number;
  /** Milliseconds since the server started. */
  at: number;
}

export type Handler = (req: ApiRequest, server: GitHubApiServer) => Reply | Promise<Reply>;

export interface PullFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previous_filename?: string;
}

export interface CheckRunState {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  output: { title?: string; summary?: string; text?: string };
  annotations: Array<Record<string, unknown>>;
  /** Annotations per request, in order, to check the batch size. */
  batches: number[];
}

/** A repository of an organisation, as `repos/list-for-org` lists it. */
export interface OrgRepo {
  name: string;
  archived?: boolean;
  fork?: boolean;
  topics?: string[];
  default_branch?: string;
  private?: boolean;
}

/** Script state the default handlers answer from. */
export interface ApiState {
  /** Organisation login → its repositories, in the order the API lists them. */
  orgRepos: Map<string, OrgRepo[]>;
  checkRuns: Map<number, CheckRunState>;
  /** Files of the pull request; the API lists at most 3,000 of them, like GitHub. */
  pullFiles: Map<number, PullFile[]>;
  /** `owner/repo@ref:path` → file text, for the contents API. */
  contents: Map<string, string>;
}

const API_FILE_CAP = 3000;

/**
 * A loopback stand-in for api.github.com. Every request is matched against
 * GitHub's OpenAPI description and validated (path, method, parameters, body);
 * anything unknown or invalid is recorded as a violation and answered 404/422,
 * so a test fails loudly. Answers are scriptable: one-shot replies queued per
 * operation (a 502, a rate limit, a 403), handlers replaced per test.
 */
export class GitHubApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly state: ApiState = { orgRepos: new Map(), checkRuns: new Map(), pullFiles: new Map(), contents: new Map() };
  readonly validator = OpenApiValidator.shared();
  url = '';
  private readonly handlers = new Map<string, Handler>();
  private readonly queued = new Map<string, Reply[]>();
  private readonly started = Date.now();
  private nextCheckRunId = 4_000_000_001;
  private readonly server = createServer((req, res) => void this.serve(req, res));

  constructor(private readonly opts: { token?: string } = {}) {
    this.handlers.set('checks/create', (r) => this.createCheckRun(r));
    this.handlers.set('checks/update', (r) => this.updateCheckRun(r));
    this.handlers.set('pulls/list-files', (r) => this.listFiles(r));
    this.handlers.set('repos/get-content', (r) => this.getContent(r));
    this.handlers.set('repos/list-for-org', (r) => this.listForOrg(r));
  }

  static async start(opts: { token?: string } = {}): Promise<GitHubApiServer> {
    const s = new GitHubApiServer(opts);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Replaces the answer of one operation (by operationId, e.g. `checks/create`). */
  on(operationId: string, handler: Handler): this {
    this.validator.operation(operationId);
    this.handlers.set(operationId, handler);
    return this;
  }

  /** Answers the next calls of an operation with these replies, in order, before its handler resumes. */
  queue(operationId: string, ...replies: Reply[]): this {
    this.validator.operation(operationId);
    this.queued.set(operationId, [...(this.queued.get(operationId) ?? []), ...replies]);
    return this;
  }

  requestsTo(operationId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operationId === operationId);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const match = this.validator.match(method, url.pathname);
    let reply: Reply;
    if (!match) {
      this.violations.push(`unknown endpoint: ${method} ${url.pathname}`);
      reply = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
    } else {
      const problems = [...this.checkHeaders(req), ...this.validator.validate(match, url.searchParams, req.headers, bodyText)];
      if (problems.length) {
        this.violations.push(...problems);
        reply = { status: 422, body: { message: 'Validation Failed', errors: problems, documentation_url: 'https://docs.github.com/rest' } };
      } else {
        reply = await this.answer(match, method, url, req, bodyText);
        // The fake must answer like GitHub, or the client is tested against the wrong thing.
        if (reply.status < 300 && reply.body !== undefined && typeof reply.body !== 'string') {
          this.violations.push(...this.validator.validateResponse(match.op.operationId, reply.status, reply.body).map((p) => `test server answered wrongly: ${p}`));
        }
      }
    }
    this.requests.push({
      method,
      path: url.pathname,
      operationId: match?.op.operationId,
      query: url.search,
      body: safeJson(bodyText),
      status: reply.status,
      at: Date.now() - this.started,
    });
    const isText = typeof reply.body === 'string';
    res.writeHead(reply.status, {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'x-github-request-id': `0000:${this.requests.length}`,
      ...reply.headers,
    });
    res.end(reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body));
  }

  private checkHeaders(req: IncomingMessage): string[] {
    const problems: string[] = [];
    if (!req.headers['user-agent']) problems.push(`${req.method} ${req.url}: no User-Agent header (GitHub rejects such requests)`);
    const auth = req.headers.authorization ?? '';
    if (this.opts.token !== undefined && auth !== `token ${this.opts.token}` && auth !== `Bearer ${this.opts.token}`) {
      problems.push(`${req.method} ${req.url}: authorization header does not carry the token`);
    }
    return problems;
  }

  private async answer(match: MatchedOperation, method: string, url: URL, req: IncomingMessage, bodyText: string): Promise<Reply> {
    const id = match.op.operationId;
    const queue = this.queued.get(id);
    if (queue?.length) return queue.shift()!;
    const handler = this.handlers.get(id);
    if (!handler) {
      this.violations.push(`no handler scripted for ${id} (${method} ${url.pathname})`);
      return { status: 501, body: { message: `test server: ${id} not scripted` } };
    }
    return handler({ method, path: url.pathname, operationId: id, params: match.params, query: url.searchParams, headers: req.headers, body: safeJson(bodyText) }, this);
  }

  private createCheckRun(r: ApiRequest): Reply {
    const body = r.body as { name: string; head_sha: string; status?: string; conclusion?: string; output?: CheckRunState['output'] & { annotations?: [] } };
    const id = this.nextCheckRunId++;
    const run: CheckRunState = {
      id,
      name: body.name,
      head_sha: body.head_sha,
      status: body.conclusion ? 'completed' : (body.status ?? 'queued'),
      conclusion: body.conclusion ?? null,
      output: {},
      annotations: [],
      batches: [],
    };
    this.state.checkRuns.set(id, run);
    this.applyOutput(run, body.output);
    return { status: 201, body: this.checkRunBody(r, run) };
  }

  private updateCheckRun(r: ApiRequest): Reply {
    const run = this.state.checkRuns.get(Number(r.params.check_run_id));
    if (!run) return { status: 404, body: { message: 'Not Found' } };
    const body = r.body as { status?: string; conclusion?: string; output?: CheckRunState['output'] & { annotations?: [] } };
    if (run.status === 'completed' && body.conclusion === undefined && body.output?.annotations === undefined) {
      this.violations.push(`check run ${run.id} updated after completion without annotations`);
    }
    if (body.conclusion) {
      run.conclusion = body.conclusion;
      run.status = 'completed';
    } else if (body.status) run.status = body.status;
    this.applyOutput(run, body.output);
    return { status: 200, body: this.checkRunBody(r, run) };
  }

  private applyOutput(run: CheckRunState, output: (CheckRunState['output'] & { annotations?: Array<Record<string, unknown>> }) | undefined): void {
    if (!output) return;
    const { annotations, ...rest } = output;
    Object.assign(run.output, rest);
    if (annotations) {
      run.annotations.push(...annotations);
      run.batches.push(annotations.length);
    }
  }

  private checkRunBody(r: ApiRequest, run: CheckRunState): unknown {
    const example = this.validator.example('checks/get', 200) as Record<string, unknown>;
    const base = `${this.url}/repos/${r.params.owner}/${r.params.repo}/check-runs/${run.id}`;
    return {
      ...example,
      id: run.id,
      name: run.name,
      head_sha: run.head_sha,
      status: run.status,
      conclusion: run.conclusion,
      url: base,
      html_url: `https://github.com/${r.params.owner}/${r.params.repo}/runs/${run.id}`,
      output: { title: run.output.title ?? null, summary: run.output.summary ?? null, text: run.output.text ?? null, annotations_count: run.annotations.length, annotations_url: `${base}/annotations` },
    };
  }

  private listFiles(r: ApiRequest): Reply {
    const all = (this.state.pullFiles.get(Number(r.params.pull_number)) ?? []).slice(0, API_FILE_CAP);
    const perPage = Number(r.query.get('per_page') ?? 30);
    const page = Number(r.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const example = (this.validator.example('pulls/list-files', 200) as Array<Record<string, unknown>>)[0]!;
    const body = slice.map((f, i) => ({
      ...example,
      sha: (page * 1000 + i).toString(16).padStart(40, '0'),
      filename: f.filename,
      status: f.status,
      ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
    }));
    const link = (p: number, rel: string) => `<${this.url}${r.path}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
    const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : [];
    return { status: 200, body, headers: links.length ? { link: links.join(', ') } : {} };
  }

  /** Pages of an organisation's repositories with GitHub's Link header (per_page at most 100, as GitHub caps it). */
  private listForOrg(r: ApiRequest): Reply {
    const org = r.params.org!;
    const all = this.state.orgRepos.get(org.toLowerCase());
    if (!all) return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/repos#list-organization-repositories', status: '404' } };
    const perPage = Math.min(100, Number(r.query.get('per_page') ?? 30));
    const page = Number(r.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const example = (this.validator.example('repos/list-for-org', 200) as Array<Record<string, unknown>>)[0]!;
    const owner = example.owner as Record<string, unknown>;
    const body = all.slice((page - 1) * perPage, page * perPage).map((repo, i) => ({
      ...example,
      id: page * 100_000 + i,
      node_id: `R_${page}_${i}`,
      name: repo.name,
      full_name: `${org}/${repo.name}`,
      owner: { ...owner, login: org, type: 'Organization' },
      private: repo.private ?? false,
      html_url: `https://github.com/${org}/${repo.name}`,
      clone_url: `https://github.com/${org}/${repo.name}.git`,
      archived: repo.archived ?? false,
      fork: repo.fork ?? false,
      topics: repo.topics ?? [],
      default_branch: repo.default_branch ?? 'main',
    }));
    const query = new URLSearchParams(r.query);
    const link = (p: number, rel: string) => {
      query.set('page', String(p));
      return `<${this.url}${r.path}?${query.toString()}>; rel="${rel}"`;
    };
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    return { status: 200, body, headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(5000 - this.requests.length - 1), ...(links.length ? { link: links.join(', ') } : {}) } };
  }

  private getContent(r: ApiRequest): Reply {
    const ref = r.query.get('ref') ?? 'HEAD';
    const key = `${r.params.owner}/${r.params.repo}@${ref}:${r.params.path}`;
    const text = this.state.contents.get(key);
    if (text === undefined) return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content', status: '404' } };
    const accept = String(r.headers.accept ?? '');
    if (accept.includes('raw')) return { status: 200, body: text };
    const example = this.validator.example('repos/get-content', 200) as Record<string, unknown>;
    const content = Buffer.from(text).toString('base64');
    return { status: 200, body: { ...example, type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: r.params.path!.split('/').pop(), path: r.params.path, content } };
  }
}

function safeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Replies GitHub gives when the token may not write (a fork PR, no `checks: write`). */
export const forbidden: Reply = {
  status: 403,
  body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run', status: '403' },
};

/** A secondary rate limit, as GitHub sends it (403 with retry-after). */
export function secondaryRateLimit(retryAfter = 1): Reply {
  return {
    status: 403,
    headers: { 'retry-after': String(retryAfter), 'x-ratelimit-remaining': '4999' },
    body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
  };
}

/** A 429 with retry-after (secondary limits are also sent this way). */
export function tooManyRequests(retryAfter = 1): Reply {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfter) },
    body: { message: 'You have exceeded a secondary rate limit and have been temporarily blocked from content creation.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
  };
}

export const badGateway: Reply = { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
