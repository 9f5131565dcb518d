import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneWorkingTree } from './helpers/clone.js';
import { isolatedEnv } from './helpers/npm.js';
import { gitIn } from './helpers/repo.js';

const ROOT = path.resolve(__dirname, '..');
const SAFE = 'import torch\n\nmodel = torch.load("model.pt", weights_only=True)\n';
const UNSAFE = 'import torch\n\nmodel = torch.load("model.pt")\n';

interface Hook {
  id: string;
  entry: string;
  language: string;
  pass_filenames: boolean;
  always_run?: boolean;
}

/**
 * The hooks under the real pre-commit framework: a user repository whose
 * .pre-commit-config.yaml names a local clone of mlgate at a commit, and real
 * `git commit`s through the installed hook.
 */
describe('pre-commit hooks', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let hookRepo: string;
  let rev: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'mlgate-pre-commit-'));
    hookRepo = await cloneWorkingTree(path.join(work, 'mlgate'));
    rev = gitIn(hookRepo, 'rev-parse', 'HEAD').trim();
    env = await isolatedEnv(path.join(work, 'home'), {
      PRE_COMMIT_HOME: path.join(work, 'pre-commit-cache'),
      // The hooks run dist/cli.js through its `#!/usr/bin/env node`: the Node running these tests.
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    });
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const sh = (cmd: string, args: string[], cwd: string) => {
    const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw r.error;
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  async function userRepo(name: string, hooks: string[]): Promise<string> {
    const dir = path.join(work, name);
    await mkdir(dir);
    sh('git', ['init', '-q', '-b', 'main'], dir);
    const config = `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n${hooks.map((h) => `      - id: ${h}\n`).join('')}`;
    await writeFile(path.join(dir, '.pre-commit-config.yaml'), config);
    await writeFile(path.join(dir, 'README.md'), '# a model repository\n');
    const installed = sh('pre-commit', ['install'], dir);
    expect(installed.code, installed.out).toBe(0);
    return dir;
  }

  const commit = (dir: string, files: string[], message: string) => {
    sh('git', ['add', '--', ...files], dir);
    return sh('git', ['commit', '-q', '-m', message], dir);
  };
  const head = (dir: string) => sh('git', ['rev-parse', '--verify', '-q', 'HEAD'], dir).out.trim();

  it('declares mlgate (the files of the commit) and mlgate-full (the whole repository), both running the bundled CLI', async () => {
    const hooks = parse(await readFile(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Hook[];
    expect(hooks.map((h) => h.id)).toEqual(['mlgate', 'mlgate-full']);
    for (const h of hooks) expect([h.entry, h.language]).toEqual(['dist/cli.js check', 'script']);
    expect(hooks[0]!.pass_filenames).toBe(true);
    expect(hooks[1]).toMatchObject({ pass_filenames: false, always_run: true });
  });

  it('refuses a commit that adds an unsafe torch.load and lets a clean commit through', async () => {
    const dir = await userRepo('user', ['mlgate']);
    await writeFile(path.join(dir, 'train.py'), SAFE);
    const clean = commit(dir, ['.pre-commit-config.yaml', 'README.md', 'train.py'], 'clean');
    expect(clean.out).toMatch(/^mlgate\.+Passed$/m);
    expect(clean.code).toBe(0);
    const good = head(dir);

    await writeFile(path.join(dir, 'serve.py'), UNSAFE);
    const unsafe = commit(dir, ['serve.py'], 'load a checkpoint');
    expect(unsafe.code).toBe(1);
    expect(unsafe.out).toMatch(/^mlgate\.+Failed$/m);
    expect(unsafe.out).toMatch(/^serve\.py:3:\d+: error unsafe-deserialization\/torch-load$/m);
    expect(unsafe.out).toContain('evaluated serve.py (1 file)');
    expect(head(dir)).toBe(good);

    // Fixed, the same commit goes through.
    await writeFile(path.join(dir, 'serve.py'), SAFE);
    const fixed = commit(dir, ['serve.py'], 'load a checkpoint safely');
    expect(fixed.code, fixed.out).toBe(0);
    expect(head(dir)).not.toBe(good);
  });

  it('mlgate-full judges the whole repository, whatever the commit touches', async () => {
    const dir = await userRepo('user-full', ['mlgate', 'mlgate-full']);
    await writeFile(path.join(dir, 'train.py'), UNSAFE);
    // A file that slipped in past the hooks.
    sh('git', ['add', '--', '.pre-commit-config.yaml', 'README.md', 'train.py'], dir);
    expect(sh('git', ['commit', '-q', '--no-verify', '-m', 'bypass'], dir).code).toBe(0);
    const base = head(dir);
    await writeFile(path.join(dir, 'NOTES.md'), 'notes\n');
    const r = commit(dir, ['NOTES.md'], 'notes');
    expect(r.out).toMatch(/^mlgate\.+Passed$/m);
    expect(r.out).toMatch(/^mlgate \(whole repository\)\.+Failed$/m);
    expect(r.out).toMatch(/^train\.py:3:\d+: error unsafe-deserialization\/torch-load$/m);
    expect(r.code).toBe(1);
    expect(head(dir)).toBe(base);
  });
});
