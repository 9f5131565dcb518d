import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import type { EvaluateOptions } from '../src/engine/options.js';
import { silentLogger } from '../src/core/logger.js';
import { commentStyle, findWaiverComments } from '../src/formats/waiver-comments.js';
import { gitBaseFile } from '../src/inventory/git-base-file.js';
import { renderSarif } from '../src/report/sarif.js';
import type { Report } from '../src/report/types.js';
import { runCli } from './helpers/cli.js';
import { configError, memoryProvider } from './helpers/policy.js';
import { gitIn, makeRepo, writeTree } from './helpers/repo.js';

const now = new Date('2026-11-28T12:00:00Z');
const ALLOWED = 'version: 1\nextends: [mlgate:recommended]\ninline-exceptions: allowed\n';
const WAIVER = '# mlgate: ignore[unsafe-deserialization] reason="legacy checkpoint, SEC-12" owner=@ml-platform expires=2027-03-01';
const LOAD = 'import pickle\nwith open("m.pkl", "rb") as f:\n';

async function run(files: Record<string, string>, policy = ALLOWED, extra: Partial<EvaluateOptions> = {}): Promise<Report> {
  const root = await makeRepo(files);
  return evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy }), mode: 'full', logger: silentLogger, toolVersion: '0.0.0', now, ...extra });
}

/** `level code path:line [waived by owner]` for the findings of a file and every policy finding, in line order. */
const shown = (r: Report, file = 'train.py') =>
  r.findings
    .filter((f) => f.path === file || f.rule === 'policy')
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    .map((f) => `${f.level} ${f.code} ${f.path}:${f.line}${f.waived ? ` waived by ${f.waived.owner}` : ''}`);

describe('reading waiver comments', () => {
  it('reads the rules, the attributes (quoted with escapes or bare) and the two lines a comment covers', () => {
    const [c] = findWaiverComments('src/train.py', `x = 1\n    m = load()  #   mlgate:  ignore[unsafe-deserialization/pickle-load, model-signing] reason="says \\"ok\\"" owner=@team expires=2027-01-01\n`);
    expect(c).toMatchObject({ line: 2, column: 17, covers: [2, 3], selectors: ['unsafe-deserialization/pickle-load', 'model-signing'], attrs: { reason: 'says "ok"', owner: '@team', expires: '2027-01-01' } });
    expect(c!.problem).toBeUndefined();
    // Whitespace does not make a different comment: the base-commit check compares this text.
    expect(c!.text).toBe('mlgate: ignore[unsafe-deserialization/pickle-load, model-signing] reason="says \\"ok\\"" owner=@team expires=2027-01-01');
  });

  it('knows which files carry comments in which syntax', () => {
    expect(['a.py', 'Dockerfile', 'docker/Dockerfile.gpu', 'requirements-dev.txt', 'ci.yml', 'run.sh', 'README.md', 'nb.ipynb', 'model.pkl', 'data.json'].map(commentStyle)).toEqual([
      'hash', 'hash', 'hash', 'hash', 'hash', 'hash', 'markdown', 'notebook', undefined, undefined,
    ]);
  });

  it('in Markdown only an HTML comment is a waiver, not a # line in a code block', () => {
    const found = findWaiverComments('README.md', `# Title\n\`\`\`\n${WAIVER}\n\`\`\`\n<!-- mlgate: ignore[model-card] reason="draft" owner=@a expires=2027-01-01 -->\n`);
    expect(found.map((c) => [c.line, c.selectors, c.attrs.reason])).toEqual([[5, ['model-card'], 'draft']]);
  });

  it('says what is wrong with a comment it cannot read', () => {
    const problems = (line: string) => findWaiverComments('a.py', line)[0]?.problem;
    expect(problems('# mlgate: disable unsafe-deserialization')).toMatch(/must read `mlgate: ignore\[rule\/code\]/);
    expect(problems('# mlgate: ignore[x] reason="never closed owner=@a')).toBe('the quoted value of reason is not closed');
    expect(problems('# mlgate: ignore[x] reason=a reason=b')).toBe('reason is given twice');
    expect(problems('# mlgate: ignore[x] because')).toMatch(/expected key=value/);
    expect(findWaiverComments('a.py', 'x = "mlgate: not a comment"\n')).toEqual([]);
  });

  it('maps a notebook code cell comment to its .ipynb line, covering the next line of the same cell', () => {
    const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: ['import pickle\n', `${WAIVER}\n`, 'm = pickle.load(open("m.pkl", "rb"))\n'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1);
    const lines = nb.split('\n');
    const [c] = findWaiverComments('nb.ipynb', nb);
    expect(lines[c!.line - 1]).toContain('mlgate: ignore');
    expect(lines[c!.covers[1]! - 1]).toContain('pickle.load');
    expect(c!.column).toBeUndefined();
    expect(findWaiverComments('nb.ipynb', '{"cells": [')).toEqual([]);
  });
});

describe('inline waivers in the engine', () => {
  it('a waiver on the line above waives the finding, marked with its reason, owner and expiry, and is listed among exceptions', async () => {
    const r = await run({ 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` });
    const f = r.findings.find((x) => x.code === 'unsafe-deserialization/pickle-load')!;
    expect(f.waived).toEqual({ reason: 'legacy checkpoint, SEC-12', owner: '@ml-platform', expires: '2027-03-01', source: 'inline' });
    expect(r.conclusion).toBe('success');
    expect(r.exceptions).toContainEqual({ rule: 'unsafe-deserialization', source: 'inline', paths: ['train.py:3'], reason: 'legacy checkpoint, SEC-12', owner: '@ml-platform', expires: '2027-03-01', matched: 1 });
    // Code scanning tells a waiver in the source from one kept elsewhere (SARIF suppression kinds).
    const sarif = renderSarif(r) as { runs: Array<{ results: Array<{ ruleId: string; suppressions?: Array<{ kind: string }> }> }> };
    const result = sarif.runs[0]!.results.find((x) => x.ruleId.startsWith('unsafe-deserialization'))!;
    expect(result.suppressions).toMatchObject([{ kind: 'inSource', status: 'accepted' }]);
  });

  it('on the same line it waives too; two lines above, or in another file, it does not', async () => {
    const same = await run({ 'train.py': `${LOAD}    m = pickle.load(f)  ${WAIVER}\n` });
    expect(shown(same)).toEqual(['error unsafe-deserialization/pickle-load train.py:3 waived by @ml-platform']);
    const far = await run({ 'train.py': `${LOAD}    ${WAIVER}\n\n    m = pickle.load(f)\n` });
    expect(shown(far)).toEqual(['warning policy/unused-exception train.py:3', 'error unsafe-deserialization/pickle-load train.py:5']);
    expect(far.conclusion).toBe('failure');
  });

  it('ignore[rule/code] narrows the waiver to that code', async () => {
    const other = await run({ 'train.py': `${LOAD}    ${WAIVER.replace('ignore[unsafe-deserialization]', 'ignore[unsafe-deserialization/torch-load]')}\n    m = pickle.load(f)\n` });
    expect(other.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!.waived).toBeNull();
    // The rules do not list their codes, so a misspelt one is caught as a waiver that matches nothing.
    expect(shown(other)).toEqual(['warning policy/unused-exception train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    const exact = await run({ 'train.py': `${LOAD}    ${WAIVER.replace('ignore[unsafe-deserialization]', 'ignore[unsafe-deserialization/pickle-load]')}\n    m = pickle.load(f)\n` });
    expect(exact.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!.waived).not.toBeNull();
  });

  it('a waiver without reason, owner or expiry, or naming an unknown rule or code, is a located error and waives nothing', async () => {
    const cases: [string, RegExp][] = [
      ['# mlgate: ignore[unsafe-deserialization] reason="x" expires=2027-03-01', /owner is missing/],
      ['# mlgate: ignore[unsafe-deserialization] owner=@a', /reason, expires are missing/],
      ['# mlgate: ignore[unsafe-deserialisation] reason="x" owner=@a expires=2027-03-01', /"unsafe-deserialisation" is not a rule id \(did you mean "unsafe-deserialization"\?\)/],
      ['# mlgate: ignore[unsafe-deserialization] reason="x" owner=@a expires=2027-02-30', /expires=2027-02-30 is not a date/],
      ['# mlgate: ignore[unsafe-deserialization] reason="x" owner=@a expires=2028-03-01', /more than 365 days ahead \(max-exception-days\); the latest allowed date is 2027-11-28/],
      ['# mlgate: ignore[unsafe-deserialization] reason="x" owner=@a expires=2027-03-01 ownr=@b', /unknown key ownr \(did you mean "owner"\?\)/],
    ];
    for (const [comment, message] of cases) {
      const r = await run({ 'train.py': `${LOAD}    ${comment}\n    m = pickle.load(f)\n` });
      expect(shown(r), comment).toEqual(['error policy/invalid-inline-waiver train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
      expect(r.findings.find((f) => f.code === 'policy/invalid-inline-waiver')!.message).toMatch(message);
      expect(r.findings.find((f) => f.code === 'policy/invalid-inline-waiver')).toMatchObject({ column: 5 });
    }
  });

  it('max-exception-days bounds the expiry, and an expired waiver is an error that waives nothing', async () => {
    const short = await run({ 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` }, `${ALLOWED}max-exception-days: 30\n`);
    expect(shown(short)).toEqual(['error policy/invalid-inline-waiver train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    const expired = await run({ 'train.py': `${LOAD}    ${WAIVER.replace('2027-03-01', '2026-11-27')}\n    m = pickle.load(f)\n` });
    expect(shown(expired)).toEqual(['error policy/expired-inline-waiver train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    expect(expired.findings.find((f) => f.rule === 'policy')!.message).toMatch(/expired on 2026-11-27: fix the finding/);
    const soon = await run({ 'train.py': `${LOAD}    ${WAIVER.replace('2027-03-01', '2026-12-05')}\n    m = pickle.load(f)\n` });
    expect(shown(soon)).toEqual(['warning policy/expiring-exception train.py:3', 'error unsafe-deserialization/pickle-load train.py:4 waived by @ml-platform']);
  });

  it('without inline-exceptions: allowed a waiver is an info that waives nothing', async () => {
    for (const policy of ['version: 1\nextends: [mlgate:recommended]\n', 'version: 1\nextends: [mlgate:recommended]\ninline-exceptions: denied\n']) {
      const r = await run({ 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` }, policy);
      expect(shown(r)).toEqual(['info policy/inline-waivers-disabled train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
      expect(r.conclusion).toBe('failure');
    }
  });

  it('a policy that locks rules and denies inline waivers cannot be overridden, and a rule locked without exceptions takes none', async () => {
    const org = 'version: 1\nextends: [mlgate:recommended]\ninline-exceptions: denied\nrules:\n  unsafe-deserialization:\n    locked: true\n';
    const root = await makeRepo({ 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` });
    const opts = (repoPolicy: string, orgPolicy = org) => ({ root, provider: memoryProvider({ '.github/mlgate.yml': repoPolicy, 'org.yml': orgPolicy }), mode: 'full' as const, logger: silentLogger, toolVersion: '0.0.0', now });
    const repoPolicy = 'version: 1\nextends: [./org.yml]\ninline-exceptions: allowed\n';
    expect(await configError(() => evaluate(opts(repoPolicy)))).toEqual([
      expect.stringMatching(/^\.github\/mlgate\.yml:3:1: inline-exceptions: allows inline waivers, but org\.yml locks rules and sets `inline-exceptions: denied`/),
    ]);
    // The lock says nothing about inline waivers, but exceptions to its rule are not allowed: a comment cannot grant one either.
    const locked = await evaluate(opts(repoPolicy, org.replace('inline-exceptions: denied\n', '')));
    expect(shown(locked)).toEqual(['error policy/invalid-inline-waiver train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    expect(locked.findings.find((f) => f.rule === 'policy')!.message).toMatch(/org\.yml locks unsafe-deserialization without `exceptions: allowed`/);
  });

  it('reads waivers in requirements files, Dockerfiles and notebook code cells', async () => {
    const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: ['import pickle\n', `${WAIVER}\n`, 'm = pickle.load(open("m.pkl", "rb"))\n'] }], metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1);
    const pin = '# mlgate: ignore[dependency-pinning] reason="tracked in SEC-9" owner=@infra expires=2027-01-31';
    const r = await run({ 'requirements.txt': `${pin}\ntorch>=2.0\nnumpy>=1\n`, Dockerfile: `FROM python:3.11  ${pin}\n`, 'nb.ipynb': nb });
    const byCode = (code: string) => r.findings.filter((f) => f.code === code).map((f) => `${f.path}:${f.line}:${f.waived ? 'waived' : 'counts'}`).sort();
    expect(byCode('dependency-pinning/unpinned-requirement')).toEqual(['requirements.txt:2:waived', 'requirements.txt:3:counts']);
    expect(byCode('dependency-pinning/unpinned-image')).toEqual(['Dockerfile:1:waived']);
    expect(r.findings.filter((f) => f.path === 'nb.ipynb').map((f) => `${f.code}:${f.waived ? 'waived' : 'counts'}`)).toEqual(['unsafe-deserialization/pickle-load:waived']);
  });
});

describe('hostile comments', () => {
  it('thousands of broken comments, NUL bytes and an unterminated quote are findings in bounded time, never a crash', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `# mlgate: ignore[${'['.repeat(i % 7)}] reason="${'\\'.repeat(i % 5)}` : `x${i} = 1  # mlgate:\u0000ignore[unsafe-deserialization] owner=@a`));
    const started = Date.now();
    const r = await run({ 'junk.py': `${lines.join('\n')}\n`, 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.findings.filter((f) => f.code === 'policy/invalid-inline-waiver' && f.path === 'junk.py')).toHaveLength(5000);
    // The valid waiver elsewhere still works.
    expect(r.findings.find((f) => f.code === 'unsafe-deserialization/pickle-load')!.waived).not.toBeNull();
  });
});

describe('on a change, only waivers already in the base commit count', () => {
  const before = { 'train.py': `${LOAD}    m = pickle.load(f)\n` };
  const after = { 'train.py': `${LOAD}    ${WAIVER}\n    m = pickle.load(f)\n` };
  const changedRun = (files: Record<string, string>, baseFile: EvaluateOptions['baseFile']) => run(files, ALLOWED, { mode: 'changed', changes: { modified: ['train.py'] }, baseFile });

  it('a waiver the change adds applies after merge: an info, and the finding still fails the gate', async () => {
    const r = await changedRun(after, async (p) => (p === 'train.py' ? before['train.py'] : undefined));
    expect(shown(r)).toEqual(['info policy/inline-waiver-pending train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    expect(r.findings.find((f) => f.rule === 'policy')!.message).toMatch(/applies after merge: this pull request adds it, and a change cannot waive its own findings/);
    expect(r.conclusion).toBe('failure');
  });

  it('a waiver already in the base counts even when the lines around it moved', async () => {
    const r = await changedRun({ 'train.py': `# new header\n\n${after['train.py']}` }, async () => after['train.py']);
    expect(shown(r)).toEqual(['error unsafe-deserialization/pickle-load train.py:6 waived by @ml-platform']);
    expect(r.conclusion).toBe('success');
  });

  it('a waiver whose words the change edits (a later expiry) is new; an unreadable base fails closed', async () => {
    const extended = await changedRun({ 'train.py': after['train.py'].replace('2027-03-01', '2027-06-01') }, async () => after['train.py']);
    expect(shown(extended)[0]).toBe('info policy/inline-waiver-pending train.py:3');
    const unreadable = await changedRun(after, async () => {
      throw new Error('HTTP 403');
    });
    expect(shown(unreadable)).toEqual(['info policy/inline-waiver-pending train.py:3', 'error unsafe-deserialization/pickle-load train.py:4']);
    expect(unreadable.findings.find((f) => f.rule === 'policy')!.message).toMatch(/could not be read/);
  });

  it('the CLI side reads the base from git at the merge base of --base', async () => {
    const root = await makeRepo(before, { git: true });
    gitIn(root, 'checkout', '-q', '-b', 'feature');
    await writeTree(root, after);
    gitIn(root, 'commit', '-qam', 'waive');
    const read = gitBaseFile(root, 'main');
    expect(await read('train.py')).toBe(before['train.py']);
    expect(await read('missing.py')).toBeUndefined();
    expect(await gitBaseFile(root, 'feature')('train.py')).toBe(after['train.py']);
  });

  it('mlgate check --base judges a branch like a pull request; without --base the checked-out waiver counts', async () => {
    // Real dates: the bundled CLI runs at today's date.
    const expires = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    const policy = { '.github/mlgate.yml': ALLOWED };
    const root = await makeRepo({ ...policy, ...before }, { git: true });
    gitIn(root, 'checkout', '-q', '-b', 'feature');
    await writeTree(root, { 'train.py': after['train.py'].replace('2027-03-01', expires) });
    gitIn(root, 'commit', '-qam', 'waive my own finding');
    const codes = (out: string) => (JSON.parse(out) as Report).findings.filter((f) => f.path === 'train.py').map((f) => `${f.code}:${f.waived ? 'waived' : 'counts'}`).sort();
    const branch = runCli(['check', '--base', 'main', '--format', 'json'], { cwd: root });
    expect(branch.code, branch.stderr).toBe(1);
    expect(codes(branch.stdout)).toEqual(['policy/inline-waiver-pending:counts', 'unsafe-deserialization/pickle-load:counts']);
    const full = runCli(['check', '--format', 'json'], { cwd: root });
    expect(full.code, full.stderr).toBe(0);
    expect(codes(full.stdout)).toEqual(['unsafe-deserialization/pickle-load:waived']);
  });
});
