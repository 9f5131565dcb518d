import { execFileSync, execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from './helpers/cli.js';
import { GitHubApiServer } from './helpers/github-api-server.js';
import { gitIn, makeRepo, type FileTree } from './helpers/repo.js';

const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (ajv: Ajv) => Ajv;

/** A pickle that imports os.system, assembled opcode by opcode: PROTO 2, GLOBAL, BINPUT, STOP. */
const EVIL_PICKLE = Buffer.from('\x80\x02cos\nsystem\nq\x00.', 'latin1');
const STRICT = 'version: 1\nrules:\n  model-file-safety:\n    level: error\n  unsafe-deserialization:\n    level: error\n';
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

type Kind = 'pass' | 'pass-waived' | 'fail' | 'remote-ok' | 'broken-key' | 'misnamed' | 'remote-missing' | 'missing' | 'bad-branch';

/** The 20 repositories of the batch: what each holds, and what the sweep must make of it. */
const PLAN: Array<[Kind, number]> = [
  ['pass', 5],
  ['pass-waived', 2],
  ['fail', 4],
  ['remote-ok', 2],
  ['broken-key', 2],
  ['misnamed', 1],
  ['remote-missing', 1],
  ['missing', 2],
  ['bad-branch', 1],
];

function files(kind: Kind, i: number): FileTree | undefined {
  const readme = { 'README.md': `# model ${i}\n` };
  switch (kind) {
    case 'pass':
      return { ...readme, '.github/mlgate.yml': STRICT, 'train.py': 'import json\n\nprint(json.dumps({}))\n' };
    case 'pass-waived':
      return {
        ...readme,
        '.github/mlgate.yml': `${STRICT}exceptions:\n  - rule: unsafe-deserialization\n    paths: ["legacy/**"]\n    reason: "old loader, replaced in ML-42"\n    owner: "@acme/ml-platform"\n    expires: ${inDays(10)}\n`,
        'legacy/load.py': 'import pickle\n\nwith open("m.pkl", "rb") as f:\n    model = pickle.load(f)\n',
      };
    case 'fail':
      return { ...readme, '.github/mlgate.yml': STRICT, 'models/clf.pkl': EVIL_PICKLE };
    case 'remote-ok':
      // The organisation's policy, pinned, read through the API: it turns model-file-safety on.
      return { ...readme, '.github/mlgate.yml': 'version: 1\nextends:\n  - acme/ml-policies/policies/ml.yml@v3.2.0\n', 'models/clf.pkl': EVIL_PICKLE };
    case 'broken-key':
      return { ...readme, '.github/mlgate.yml': 'version: 1\nrulez:\n  model-file-safety:\n    level: error\n' };
    case 'misnamed':
      return { ...readme, 'mlgate.yaml': STRICT };
    case 'remote-missing':
      return { ...readme, '.github/mlgate.yml': 'version: 1\nextends:\n  - acme/ml-policies/policies/gone.yml@v3.2.0\n' };
    case 'bad-branch':
      return readme;
    case 'missing':
      return undefined;
  }
}

/** The CLI in a child process without blocking this one: the API test server answers from this event loop. */
function runCliAsync(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 170_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

let server: GitHubApiServer;
let sources: string;
let out: string;
let batch: Array<{ name: string; branch?: string; kind: Kind }>;
let run: CliResult;
const heads = new Map<string, string>();

beforeAll(async () => {
  server = await GitHubApiServer.start({ token: 'ghs_sweeptoken' });
  server.state.contents.set('acme/ml-policies@v3.2.0:policies/ml.yml', 'version: 1\nrules:\n  model-file-safety:\n    level: error\n');
  sources = await mkdtemp(path.join(tmpdir(), 'mlgate-org-sources-'));
  out = await mkdtemp(path.join(tmpdir(), 'mlgate-org-out-'));
  batch = [];
  let i = 0;
  for (const [kind, n] of PLAN) {
    for (let k = 0; k < n; k++, i++) {
      const name = `acme/${kind}-${k}`;
      const tree = files(kind, i);
      if (tree) {
        const work = await makeRepo(tree, { git: true });
        const bare = path.join(sources, 'acme', `${kind}-${k}.git`);
        execFileSync('git', ['clone', '-q', '--bare', work, bare]);
        heads.set(name, gitIn(work, 'rev-parse', 'HEAD').trim());
      }
      batch.push({ name, kind, ...(kind === 'bad-branch' ? { branch: 'release' } : { branch: 'main' }) });
    }
  }
  expect(batch).toHaveLength(20);
  const batchFile = path.join(out, 'batch.json');
  await writeFile(batchFile, JSON.stringify(batch.map(({ name, branch }) => ({ name, branch }))));
  run = await runCliAsync(['org', 'check', '--batch', `@${batchFile}`, '--output-dir', path.join(out, 'reports'), '--clone-url-template', `file://${sources}/{owner}/{repo}.git`], {
    GITHUB_API_URL: server.url,
    GITHUB_TOKEN: 'ghs_sweeptoken',
    GITHUB_SERVER_URL: 'https://github.example.com',
  });
}, 180_000);

afterAll(async () => {
  await server.close();
  await rm(sources, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

const result = async (name: string) => JSON.parse(await readFile(path.join(out, 'reports', `${name.replace('/', '__')}.json`), 'utf8'));

describe('org check over 20 local repositories', () => {
  it('records a result for every repository and exits 0', async () => {
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    expect((await readdir(path.join(out, 'reports'))).sort()).toEqual(batch.map((b) => `${b.name.replace('/', '__')}.json`).sort());
    expect(run.stdout).toMatch(/20 repositories: 7 pass, 6 fail, 7 could not be checked/);
    expect(server.violations).toEqual([]);
  });

  it('writes schema-valid reports naming the repository, its commit and the evaluated branch', async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(await readFile(path.resolve(__dirname, '../schema/report.schema.json'), 'utf8')));
    for (const b of batch.filter((x) => ['pass', 'pass-waived', 'fail', 'remote-ok'].includes(x.kind))) {
      const r = await result(b.name);
      expect(validate(r), `${b.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(r.repository).toEqual({ name: b.name, commit: heads.get(b.name), ref: 'refs/heads/main', url: `https://github.example.com/${b.name}` });
      expect(r.mode).toBe('full');
      expect(r.conclusion).toBe(b.kind.startsWith('pass') ? 'success' : 'failure');
    }
  });

  it("judges each repository by its own policy, remote extends read through the API at the pinned ref", async () => {
    const failing = await result('acme/fail-0');
    expect(failing.findings.map((f: { code: string; path: string }) => `${f.code} ${f.path}`)).toEqual(['model-file-safety/dangerous-global models/clf.pkl']);
    const remote = await result('acme/remote-ok-0');
    expect(remote.findings.map((f: { code: string }) => f.code)).toEqual(['model-file-safety/dangerous-global']);
    const reads = server.requestsTo('repos/get-content').filter((r) => decodeURIComponent(r.path) === '/repos/acme/ml-policies/contents/policies/ml.yml');
    // Two repositories extend it: read once for the batch.
    expect(reads).toHaveLength(1);
    expect(reads.every((r) => new URLSearchParams(r.query).get('ref') === 'v3.2.0')).toBe(true);
    const waived = await result('acme/pass-waived-0');
    expect(waived.counts).toMatchObject({ error: 0, waived: 1 });
    expect(waived.exceptions[0]).toMatchObject({ rule: 'unsafe-deserialization', owner: '@acme/ml-platform', expires: inDays(10), matched: 1 });
  });

  it('records unclonable repositories with the reason', async () => {
    for (const name of ['acme/missing-0', 'acme/missing-1', 'acme/bad-branch-0']) {
      const r = await result(name);
      expect(r.error.stage).toBe('clone');
      expect(r.repository.name).toBe(name);
      expect(r.repository.commit).toBeNull();
    }
    expect((await result('acme/missing-0')).error.reason).toMatch(/cannot clone branch main of acme\/missing-0: .*(does not exist|not found|not appear to be a git repository)/i);
    expect((await result('acme/bad-branch-0')).error.reason).toMatch(/cannot clone branch release of acme\/bad-branch-0: .*release/);
  });

  it('records policy-broken repositories with the located policy error', async () => {
    expect((await result('acme/broken-key-0')).error).toEqual({ stage: 'policy', reason: expect.stringMatching(/\.github\/mlgate\.yml:2:1.*rulez/) });
    expect((await result('acme/misnamed-0')).error).toEqual({ stage: 'policy', reason: expect.stringMatching(/mlgate\.yaml.*in acme\/misnamed-0/) });
    expect((await result('acme/remote-missing-0')).error).toEqual({ stage: 'policy', reason: expect.stringMatching(/acme\/ml-policies\/policies\/gone\.yml@v3\.2\.0: not found \(HTTP 404\)/) });
  });

  it('never puts the token in a result or the output', async () => {
    const all = await Promise.all((await readdir(path.join(out, 'reports'))).map((f) => readFile(path.join(out, 'reports', f), 'utf8')));
    expect([...all, run.stdout, run.stderr].join('\n')).not.toContain('ghs_sweeptoken');
  });

  it('merges the batch into one organisation report', async () => {
    const merged = path.join(out, 'org.json');
    const r = runCli(['report', 'merge', path.join(out, 'reports'), '--format', 'json', '--output', merged]);
    expect(r.stderr).toMatch(/20 repositories: 7 pass, 6 fail, 7 could not be checked/);
    expect(r.code).toBe(0);
    const org = JSON.parse(await readFile(merged, 'utf8'));
    expect(org.summary).toMatchObject({ repositories: 20, success: 7, failure: 6, error: 7 });
    expect(org.rules.find((x: { rule: string }) => x.rule === 'model-file-safety').failing).toEqual(['acme/fail-0', 'acme/fail-1', 'acme/fail-2', 'acme/fail-3', 'acme/remote-ok-0', 'acme/remote-ok-1']);
    expect(org.exceptions.map((e: { repository: string; daysLeft: number }) => [e.repository, e.daysLeft])).toEqual([
      ['acme/pass-waived-0', 10],
      ['acme/pass-waived-1', 10],
    ]);
  });
});

describe('org check --batch', () => {
  it('refuses a batch with a bad entry before cloning anything, naming each problem', () => {
    const r = runCli(['org', 'check', '--batch', JSON.stringify(['acme/ok', 'not a name', { name: 'acme/x', branch: '--upload-pack=touch /tmp/pwned' }, { name: 'acme/y', url: 'ext::sh' }]), '--output-dir', path.join(tmpdir(), 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch\[1\]\.name "not a name": expected owner\/name/);
    expect(r.stderr).toMatch(/--batch\[2\]\.branch .*not a branch name/);
    expect(r.stderr).toMatch(/--batch\[3\]: unknown key "url"/);
  });

  it('accepts a matrix entry as the plan wrote it', () => {
    const r = runCli(['org', 'check', '--batch', '{"batch": 3, "repositories": "nope"}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a JSON list of repositories/);
  });
});
