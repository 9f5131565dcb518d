import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { choosePolicy } from '../src/policies/locate.js';
import { CLI, runCli } from './helpers/cli.js';
import { gitIn, makeRepo, writeTree } from './helpers/repo.js';

// `mlgate check` fails closed on every wrong input (issue 10): each case through the bundled CLI.

const PICKLE_PY = 'import pickle\n\nwith open("m.pkl", "rb") as f:\n    model = pickle.load(f)\n';
const GOOD_TM = '---\nlast-reviewed: 2026-11-01\n---\n# TM\n## Assets\nx\n## Threats\nAML.T0020\n## Mitigations\ny\n';
/** Only the rules these tests look at, so findings are few and known. */
const POLICY = 'version: 1\nrules:\n  threat-model:\n    level: error\n  unsafe-deserialization:\n    level: error\n';

interface JsonFinding {
  code: string;
  path: string | null;
  level: string;
  message: string;
}
const json = (stdout: string) => JSON.parse(stdout) as { mode: string; conclusion: string; findings: JsonFinding[] };
const codesAt = (stdout: string) => json(stdout).findings.map((f) => `${f.code}@${f.path ?? ''}`).sort();

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

describe('mlgate check: what to evaluate', () => {
  it('exits 2 for a path that does not exist, naming it', async () => {
    const dir = await makeRepo({ 'README.md': 'x\n' });
    const r = runCli(['check', path.join(dir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'nope')}: no such file or directory`);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for a path that is neither a directory nor a file', () => {
    const r = runCli(['check', '/dev/null']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/dev/null: neither a directory nor a regular file');
  });

  it('check FILE… evaluates the repository that holds the files, restricted to them', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, 'train.py': PICKLE_PY, 'serve.py': PICKLE_PY, 'other.py': PICKLE_PY }, { git: true });
    const one = runCli(['check', path.join(dir, 'train.py'), '--format', 'json']);
    expect(one.code).toBe(1);
    expect(json(one.stdout).mode).toBe('changed');
    expect(codesAt(one.stdout)).toEqual(['unsafe-deserialization/pickle-load@train.py']);

    const two = runCli(['check', 'train.py', 'serve.py', '--format', 'json'], { cwd: dir });
    expect(codesAt(two.stdout)).toEqual(['unsafe-deserialization/pickle-load@serve.py', 'unsafe-deserialization/pickle-load@train.py']);

    const text = runCli(['check', 'train.py'], { cwd: dir });
    expect(text.stdout).toMatch(/^note: evaluated train\.py \(1 file\) in the repository at /m);
    expect(text.stdout).toMatch(/^train\.py:4:13: error unsafe-deserialization\/pickle-load$/m);
  });

  it('check FILE… exits 2 when the files are in different repositories, naming the stray ones', async () => {
    const a = await makeRepo({ 'a.py': 'x = 1\n' }, { git: true });
    const b = await makeRepo({ 'b.py': 'x = 1\n' }, { git: true });
    const r = runCli(['check', path.join(a, 'a.py'), path.join(b, 'b.py')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(b, 'b.py')}: outside the repository`);
  });

  it('takes the git top level as the root from a subdirectory, and restricts the run to that subdirectory', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, 'src/app/serve.py': PICKLE_PY, 'train.py': PICKLE_PY }, { git: true });
    // Before the fix, the subdirectory was the root: the policy and the threat model were "missing".
    const fromSub = runCli(['check', '--format', 'json'], { cwd: path.join(dir, 'src') });
    expect(fromSub.code).toBe(1);
    expect(codesAt(fromSub.stdout)).toEqual(['unsafe-deserialization/pickle-load@src/app/serve.py']);
    // The text report shows paths relative to the working directory, so a terminal opens the right file.
    expect(runCli(['check'], { cwd: path.join(dir, 'src') }).stdout).toMatch(/^app\/serve\.py:4:13: error unsafe-deserialization\/pickle-load$/m);
    const named = runCli(['check', path.join(dir, 'src', 'app'), '--format', 'json']);
    expect(codesAt(named.stdout)).toEqual(['unsafe-deserialization/pickle-load@src/app/serve.py']);
    const whole = runCli(['check', '--format', 'json'], { cwd: dir });
    expect(json(whole.stdout).mode).toBe('full');
    expect(codesAt(whole.stdout)).toEqual(['unsafe-deserialization/pickle-load@src/app/serve.py', 'unsafe-deserialization/pickle-load@train.py']);
  });

  it('with --base, named paths restrict the change to them', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, 'src/ok.py': 'x = 1\n', 'top.py': 'x = 1\n' }, { git: true });
    gitIn(dir, 'checkout', '-qb', 'pr');
    await writeTree(dir, { 'src/ok.py': PICKLE_PY, 'top.py': PICKLE_PY });
    gitIn(dir, 'commit', '-qam', 'load pickles');
    const all = runCli(['check', '--base', 'main', '--format', 'json'], { cwd: dir });
    expect(codesAt(all.stdout)).toEqual(['unsafe-deserialization/pickle-load@src/ok.py', 'unsafe-deserialization/pickle-load@top.py']);
    const sub = runCli(['check', 'src', '--base', 'main', '--format', 'json'], { cwd: dir });
    expect(json(sub.stdout).mode).toBe('changed');
    expect(codesAt(sub.stdout)).toEqual(['unsafe-deserialization/pickle-load@src/ok.py']);
  });

  it('walks the work tree for untracked files once against the work tree, and not at all between commits', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, 'src/ok.py': 'x = 1\n' }, { git: true });
    gitIn(dir, 'checkout', '-qb', 'pr');
    await writeTree(dir, { 'src/ok.py': PICKLE_PY });
    gitIn(dir, 'commit', '-qam', 'load a pickle');
    await writeTree(dir, { 'src/wip.py': PICKLE_PY });
    // git's own trace names every command the run started; naming src lists that directory's files (a pathspec'd ls-files) besides.
    const walks = async (args: string[]) => {
      const trace = path.join(await mkdtemp(path.join(tmpdir(), 'mlgate-trace-')), 'git.log');
      const r = runCli(args, { cwd: dir, env: { GIT_TRACE: trace } });
      const log = await readFile(trace, 'utf8');
      return { codes: codesAt(r.stdout), walks: log.split('\n').filter((l) => /built-in: git ls-files -z --others --exclude-standard$/.test(l)).length };
    };
    expect(await walks(['check', 'src', '--base', 'main', '--format', 'json'])).toEqual({ codes: ['unsafe-deserialization/pickle-load@src/ok.py', 'unsafe-deserialization/pickle-load@src/wip.py'], walks: 1 });
    expect(await walks(['check', 'src', '--base', 'main', '--head', 'HEAD', '--format', 'json'])).toEqual({ codes: ['unsafe-deserialization/pickle-load@src/ok.py'], walks: 0 });
  });

  it('outside git, the directory given is the root', async () => {
    const dir = await makeRepo({ 'sub/.github/mlgate.yml': POLICY, 'sub/THREAT_MODEL.md': GOOD_TM, 'sub/train.py': PICKLE_PY });
    const r = runCli(['check', path.join(dir, 'sub'), '--format', 'json']);
    expect(json(r.stdout).mode).toBe('full');
    expect(codesAt(r.stdout)).toEqual(['unsafe-deserialization/pickle-load@train.py']);
  });

  it('--root takes a directory inside a work tree as a repository of its own', async () => {
    const dir = await makeRepo({ 'vendor/ex/.github/mlgate.yml': POLICY, 'vendor/ex/THREAT_MODEL.md': GOOD_TM, 'vendor/ex/train.py': PICKLE_PY, 'top.py': PICKLE_PY }, { git: true });
    const r = runCli(['check', '--root', path.join(dir, 'vendor/ex'), '--format', 'json']);
    expect(json(r.stdout).mode).toBe('full');
    expect(codesAt(r.stdout)).toEqual(['unsafe-deserialization/pickle-load@train.py']);
  });

  it('exits 2 for a directory with no files at all', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlgate-empty-'));
    scratch.push(dir);
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds no files to evaluate/);
    const repo = await makeRepo({ 'README.md': 'x\n' }, { git: true });
    await mkdir(path.join(repo, 'empty'));
    const sub = runCli(['check', path.join(repo, 'empty')]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/empty: the directory holds no files to evaluate/);
  });

  it('warns with inventory/nothing-evaluated when files exist but none was evaluated', async () => {
    const dir = await makeRepo({ '.github/mlgate.yml': `${POLICY}paths:\n  exclude: ["**"]\n`, 'train.py': PICKLE_PY });
    const r = runCli(['check', dir, '--format', 'json']);
    const found = json(r.stdout).findings.find((f) => f.code === 'inventory/nothing-evaluated');
    expect(found?.level).toBe('warning');
    expect(found?.message).toMatch(/none of the repository's 2 files was evaluated: paths\.exclude in the policy \(\*\*\) matches every one/);
    expect(runCli(['check', dir, '--fail-on', 'warning']).code).toBe(1);

    // A named file git ignores is not in the listing: said so, by name.
    const repo = await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, '.gitignore': 'scratch.py\n', 'scratch.py': PICKLE_PY }, { git: true });
    const ignored = runCli(['check', path.join(repo, 'scratch.py'), '--format', 'json']);
    expect(json(ignored.stdout).findings.find((f) => f.code === 'inventory/nothing-evaluated')?.message).toMatch(/scratch\.py is not in the repository's file list/);
  });
});

describe('mlgate check: which policy', () => {
  it('exits 2 when --policy names a file that does not exist', async () => {
    const dir = await makeRepo({ 'README.md': 'x\n' });
    const r = runCli(['check', dir, '--policy', path.join(dir, 'does-not-exist.yml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--policy ${path.join(dir, 'does-not-exist.yml')}: no such policy file`);
  });

  it('applies mlgate:recommended without a word of error when only the default is absent, and says so in one line', async () => {
    const dir = await makeRepo({ 'THREAT_MODEL.md': GOOD_TM });
    const r = runCli(['check', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/^note: .*$/gm)).toEqual(['note: no .github/mlgate.yml: the built-in mlgate:recommended policy applies']);
  });

  it.each([
    [{ '.github/mlgate.yaml': POLICY }, 'found policy file .github/mlgate.yaml: mlgate reads .github/mlgate.yml, which does not exist'],
    [{ 'mlgate.yml': POLICY }, 'found policy file mlgate.yml: mlgate reads .github/mlgate.yml, which does not exist'],
    [{ '.github/mlgate.yml': POLICY, 'mlgate.yml': POLICY }, 'found policy files .github/mlgate.yml, mlgate.yml: mlgate reads .github/mlgate.yml only, so the rules in mlgate.yml would silently not apply'],
  ])('exits 2 for a policy under another name or a second candidate: %j', async (files, message) => {
    const dir = await makeRepo({ ...files, 'THREAT_MODEL.md': GOOD_TM });
    const r = runCli(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    // Naming the policy settles it.
    const named = runCli(['check', dir, '--policy', path.join(dir, Object.keys(files)[0]!)]);
    expect(named.code).toBe(0);
  });

  it('policy show and init work from the repository root too', async () => {
    const dir = await makeRepo({ 'src/app.py': 'x = 1\n' }, { git: true });
    const sub = path.join(dir, 'src');
    expect(runCli(['init'], { cwd: sub }).stdout).toBe('wrote .github/mlgate.yml\n');
    expect(runCli(['check', '--format', 'json'], { cwd: sub }).code).toBe(0);
    expect(runCli(['policy', 'show'], { cwd: sub }).stdout).toMatch(/layers:\n {2}- mlgate:recommended\n {2}- \.github\/mlgate\.yml\n/);
    await writeTree(dir, { 'mlgate.yaml': POLICY });
    const misnamed = runCli(['policy', 'show'], { cwd: sub });
    expect(misnamed.code).toBe(2);
    expect(misnamed.stderr).toContain('found policy files .github/mlgate.yml, mlgate.yaml');
  });

  it('choosePolicy is the one rule for both front doors', () => {
    expect(choosePolicy({ present: [], option: '--policy' })).toMatchObject({ path: undefined, note: expect.stringMatching(/mlgate:recommended/) });
    expect(choosePolicy({ present: ['.github/mlgate.yml'], option: '--policy' })).toEqual({ path: '.github/mlgate.yml' });
    expect(choosePolicy({ explicit: 'p.yml', explicitExists: true, present: ['mlgate.yml'], option: '--policy' })).toEqual({ path: 'p.yml' });
    expect(() => choosePolicy({ explicit: 'p.yml', explicitExists: false, present: [], option: 'the "policy" input', where: 'at the base commit abc' })).toThrow(
      'the "policy" input p.yml: no such policy file at the base commit abc.',
    );
    expect(() => choosePolicy({ present: ['.mlgate.yaml', 'mlgate.yml'], option: '--policy' })).toThrow(/found policy files mlgate\.yml, \.mlgate\.yaml: .*Rename one of them to \.github\/mlgate\.yml/);
  });
});

describe('mlgate check --changed-files', () => {
  it('accepts absolute paths inside the repository and names every path outside it', async () => {
    const dir = await realpath(await makeRepo({ '.github/mlgate.yml': POLICY, 'THREAT_MODEL.md': GOOD_TM, 'train.py': PICKLE_PY, 'ok.py': 'x = 1\n' }, { git: true }));
    // Through a symbolic link to the repository too: it is compared as its real path.
    const link = path.join(await realpath(await makeRepo({})), 'link');
    await symlink(dir, link);
    await writeTree(dir, { 'list.txt': `${path.join(link, 'train.py')}\nok.py\n` });
    const r = runCli(['check', dir, '--changed-files', path.join(dir, 'list.txt'), '--format', 'json']);
    expect(r.code).toBe(1);
    expect(codesAt(r.stdout)).toEqual(['unsafe-deserialization/pickle-load@train.py']);

    await writeTree(dir, { 'bad.txt': `train.py\n/etc/passwd\n../escape.py\n${path.join(path.dirname(dir), 'sibling.py')}\n` });
    const bad = runCli(['check', dir, '--changed-files', path.join(dir, 'bad.txt')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('3 paths are not inside the repository');
    for (const p of ['/etc/passwd', '../escape.py', path.join(path.dirname(dir), 'sibling.py')]) expect(bad.stderr).toContain(JSON.stringify(p));
    expect(bad.stderr).not.toContain('"train.py"');
  });
});



describe('npm run demo', () => {
  const demo = path.resolve(__dirname, '../scripts/demo.mjs');
  const run = (cwd: string) => spawnSync(process.execPath, [demo], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('shows the failing gate on the example repository and exits 0', () => {
    const r = run(path.resolve(__dirname, '..'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✖ gate failed: \d+ errors/);
    expect(r.stdout).toContain('(exit code 1: the gate failed, as it should on this deliberately insecure example repository)');
  });

  it('tells a CLI that cannot run from a failed gate, and exits non-zero', async () => {
    // No dist/cli.js here: node would exit 1 like a failed gate.
    const r = run(await makeRepo({ 'README.md': 'x\n' }));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('dist/cli.js is missing; run `npm run build` first');
    // A CLI that starts but cannot evaluate (no examples/demo-repo): exit 2 passed through, no "gate failed".
    const empty = await makeRepo({ 'README.md': 'x\n' });
    await mkdir(path.join(empty, 'dist'));
    await symlink(path.resolve(__dirname, '../dist/cli.js'), path.join(empty, 'dist/cli.js'));
    const noExample = run(empty);
    expect(noExample.status).toBe(2);
    expect(noExample.stdout).not.toContain('the gate failed');
    expect(noExample.stderr).toContain('demo: the CLI could not run (exit code 2)');
  });
});

describe('mlgate policy validate', () => {
  const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const policyWith = (expires: string): string =>
    ['version: 1', 'rules:', '  model-card: {}', 'exceptions:', '  - rule: model-card', '    paths: ["models/**"]', '    reason: legacy models', '    owner: "@acme/ml"', `    expires: ${expires}`, ''].join('\n');

  it('exits 2 on an expired exception, located as check would report it', async () => {
    const dir = await makeRepo({ 'p.yml': policyWith(day(-3)) });
    const r = runCli(['policy', 'validate', path.join(dir, 'p.yml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yml:5:\d+: error policy\/expired-exception: .*expired on/);
    expect(r.stderr).toContain('invalid (1 error)');
  });

  it('exits 0 and prints the warning for an exception that expires soon', async () => {
    const dir = await makeRepo({ 'p.yml': policyWith(day(5)) });
    const r = runCli(['policy', 'validate', path.join(dir, 'p.yml')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/p\.yml:5:\d+: warning policy\/expiring-exception: /);
    expect(r.stdout).toMatch(/valid \(.*\), 1 warning\n$/);
  });

  it('warns about an extends at a branch', async () => {
    const dir = await makeRepo({
      'p.yml': 'version: 1\nextends:\n  - acme/policies/ml.yml@main\n',
      'checkouts/acme/policies/ml.yml': 'version: 1\nrules:\n  model-card: {}\n',
    });
    const r = runCli(['policy', 'validate', path.join(dir, 'p.yml'), '--policy-dir', path.join(dir, 'checkouts')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/p\.yml:3:\d+: warning policy\/unpinned-extends: /);
  });

  it('a clean policy is valid with no warnings', async () => {
    const dir = await makeRepo({ 'p.yml': policyWith(day(60)) });
    const r = runCli(['policy', 'validate', 'p.yml'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('p.yml: valid (1 rule from p.yml)\n');
  });
});

describe('mlgate check | head', () => {
  it('a reader that closes the pipe early neither crashes the CLI nor changes its exit code', async () => {
    // Hundreds of KiB of report, so the pipe is closed while the CLI is still writing.
    const reqs = Array.from({ length: 1500 }, (_, i) => `package-${i}>=1.0`).join('\n');
    const dir = await makeRepo({ 'requirements.txt': `${reqs}\n`, 'serve.py': PICKLE_PY, 'THREAT_MODEL.md': GOOD_TM, '.github/mlgate.yml': POLICY.replace('rules:\n', 'rules:\n  dependency-pinning: {}\n') });
    const child = spawn(process.execPath, [CLI, 'check', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(code).toBe(1);
  });
});
