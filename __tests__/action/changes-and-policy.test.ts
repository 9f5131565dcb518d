import fc from 'fast-check';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ConfigurationError } from '../../src/core/errors.js';
import { changesFromApi, changesFromGit } from '../../src/github/changed-files.js';
import { parseNameStatus } from '../../src/inventory/git-changes.js';
import { createGitHubClient } from '../../src/github/client.js';
import { GitHubPolicyProvider } from '../../src/github/policy-provider.js';
import { GitHubApiServer } from '../helpers/github-api-server.js';
import { gitIn, makeRepo, writeTree } from '../helpers/repo.js';

const TOKEN = 'ghs_unit';
const REPO = { owner: 'acme', repo: 'clf' };
let api: GitHubApiServer;
const client = () => createGitHubClient({ token: TOKEN, logger: silentLogger, baseUrl: api.url });

beforeAll(async () => {
  api = await GitHubApiServer.start({ token: TOKEN });
});
afterAll(async () => {
  await api.close();
  expect(api.violations).toEqual([]);
});

describe('parseNameStatus', () => {
  it.each([
    ['', { added: [], modified: [], deleted: [], renamed: [] }],
    ['M\0a.py\0A\0new dir/b.txt\0D\0gone.md\0', { added: ['new dir/b.txt'], modified: ['a.py'], deleted: ['gone.md'], renamed: [] }],
    ['R087\0old/name.py\0new/name.py\0', { renamed: [['new/name.py', 'old/name.py']] }],
    ['C100\0src.yml\0copy.yml\0T\0link\0', { added: ['copy.yml'], modified: ['link'] }],
    ['M\0line\nbreak.txt\0', { modified: ['line\nbreak.txt'] }],
  ])('%j', (out, expected) => {
    expect(parseNameStatus(out)).toMatchObject(expected);
  });

  it('never throws on arbitrary output', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('M', 'A', 'D', 'R100', 'C050', 'T', ''), fc.string())).map((parts) => parts.join('\0')), (out) => {
        const list = parseNameStatus(out);
        expect(list.added.length + list.modified.length + list.deleted.length + list.renamed.length).toBeLessThanOrEqual(out.split('\0').length);
      }),
    );
  });
});

describe('changesFromGit', () => {
  it('lists what the PR changed since the merge base, renames with their old names', async () => {
    const dir = await makeRepo({ 'a.py': 'print(1)\n', 'old.py': 'x = 1\n' + 'y = 2\n'.repeat(20), 'gone.md': 'bye\n' }, { git: true });
    const base = gitIn(dir, 'rev-parse', 'HEAD').trim();
    gitIn(dir, 'checkout', '-q', '-b', 'pr');
    gitIn(dir, 'mv', 'old.py', 'new.py');
    gitIn(dir, 'rm', '-q', 'gone.md');
    await writeTree(dir, { 'a.py': 'print(2)\n', 'added.txt': 'hi\n' });
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-q', '-m', 'pr');
    const head = gitIn(dir, 'rev-parse', 'HEAD').trim();
    // main moving on must not show up as the PR's change
    gitIn(dir, 'checkout', '-q', 'main');
    await writeTree(dir, { 'main-only.txt': 'x\n' });
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-q', '-m', 'main');
    const mainTip = gitIn(dir, 'rev-parse', 'HEAD').trim();

    // Two commits: nothing untracked is part of the change or of the listing.
    expect(await changesFromGit(dir, mainTip, head)).toEqual({ added: ['added.txt'], modified: ['a.py'], deleted: ['gone.md'], renamed: [['new.py', 'old.py']], untracked: [] });
    expect(await changesFromGit(dir, base, 'f'.repeat(40))).toBeUndefined();
  });
});

describe('changesFromApi', () => {
  it('pages 100 at a time and maps every status', async () => {
    const files = [
      { filename: 'a.py', status: 'modified' as const },
      { filename: 'b.py', status: 'added' as const },
      { filename: 'c.py', status: 'removed' as const },
      { filename: 'd.py', status: 'renamed' as const, previous_filename: 'old/d.py' },
      { filename: 'e.py', status: 'copied' as const },
      { filename: 'f.py', status: 'changed' as const },
      ...Array.from({ length: 250 }, (_, i) => ({ filename: `data/${i}.csv`, status: 'added' as const })),
    ];
    api.state.pullFiles.set(11, files);
    const before = api.requestsTo('pulls/list-files').length;
    const r = await changesFromApi(await client(), REPO, 11, files.length);
    expect(api.requestsTo('pulls/list-files').length - before).toBe(3);
    expect(r).toMatchObject({ listed: 256, capped: false });
    expect(r.changes.modified).toEqual(['a.py', 'f.py']);
    expect(r.changes.deleted).toEqual(['c.py']);
    expect(r.changes.renamed).toEqual([['d.py', 'old/d.py']]);
    expect(r.changes.added).toHaveLength(252);
    expect(r.changes.untracked).toEqual([]);
  });

  it.each([
    ['at the 3,000-file cap', 3200, undefined, true],
    ['when the payload counts more files than the API lists', 40, 41, true],
    ['under the cap', 40, 40, false],
  ])('capped %s', async (_name, n, expected, capped) => {
    api.state.pullFiles.set(12, Array.from({ length: n }, (_, i) => ({ filename: `f${i}`, status: 'added' as const })));
    expect((await changesFromApi(await client(), REPO, 12, expected)).capped).toBe(capped);
  });
});

describe('GitHubPolicyProvider', () => {
  it('reads local files at the base commit, not from the work tree', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': 'base policy\n', 'keys/k.pub': 'KEY\n' }, { git: true });
    const base = gitIn(dir, 'rev-parse', 'HEAD').trim();
    await writeTree(dir, { '.github/mlgate.yml': 'edited in the PR\n', 'new.yml': 'x' });
    const p = new GitHubPolicyProvider({ root: dir, repo: REPO, commit: base });
    expect(await p.readLocal('.github/mlgate.yml')).toBe('base policy\n');
    expect(await p.readLocal('./keys/k.pub')).toBe('KEY\n');
    expect(await p.readLocal('new.yml')).toBeUndefined();
    expect(p.describeLocal('.github/mlgate.yml')).toBe(`.github/mlgate.yml@${base.slice(0, 12)}`);
    await expect(p.readLocal('../outside.yml')).rejects.toThrow(ConfigurationError);
    await expect(p.readLocal('.github')).rejects.toThrow(/not a file/);
  });

  it('reads the work tree on non-PR events, refusing symbolic links', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': 'tree policy\n' });
    await symlink('/etc/hostname', path.join(dir, 'link.yml'));
    const p = new GitHubPolicyProvider({ root: dir, repo: REPO });
    expect(await p.readLocal('.github/mlgate.yml')).toBe('tree policy\n');
    expect(await p.readLocal('absent.yml')).toBeUndefined();
    await expect(p.readLocal('link.yml')).rejects.toThrow(/symbolic links/);
  });

  it('falls back to the contents API at the base SHA when the checkout lacks the commit', async () => {
    const dir = await makeRepo({ 'README.md': 'x' }, { git: true });
    const base = 'e'.repeat(40);
    api.state.contents.set(`acme/clf@${base}:.github/mlgate.yml`, 'from the API\n');
    const p = new GitHubPolicyProvider({ root: dir, repo: REPO, commit: base, client: await client() });
    expect(await p.readLocal('.github/mlgate.yml')).toBe('from the API\n');
    expect(await p.readLocal('.github/absent.yml')).toBeUndefined();
  });

  it('reads remote extends through the contents API and names them when missing', async () => {
    api.state.contents.set('acme/ml-policies@v3.2.0:policies/ml.yml', 'org policy\n');
    api.state.contents.set('acme/ml-policies@v3.2.0:keys/root.pem', 'PEM\n');
    const p = new GitHubPolicyProvider({ root: '/nonexistent', repo: REPO, client: await client() });
    const ref = { owner: 'acme', repo: 'ml-policies', path: 'policies/ml.yml', ref: 'v3.2.0' };
    expect(await p.readRemote(ref)).toBe('org policy\n');
    expect(await p.readRemote(ref, 'keys/root.pem')).toBe('PEM\n');
    await expect(p.readRemote({ ...ref, ref: 'v9' })).rejects.toThrow(/extends: acme\/ml-policies\/policies\/ml\.yml@v9: not found \(HTTP 404\)/);
    await expect(new GitHubPolicyProvider({ root: '/x', repo: REPO }).readRemote(ref)).rejects.toThrow(/needs the `token` input/);
  });
});
