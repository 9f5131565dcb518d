import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneWorkingTree } from './helpers/clone.js';
import { gitIn } from './helpers/repo.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

function release(clone: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['scripts/release.mjs', ...args], { cwd: clone, encoding: 'utf8', env: { ...process.env, ...GIT_ENV }, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const json = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
const bumpMinor = (v: string) => {
  const [major, minor] = v.split('.').map(Number);
  return `${major}.${minor! + 1}.0`;
};

/** scripts/release.mjs on a temporary clone with a bare origin: everything up to the push, and not the push. */
describe('scripts/release.mjs', () => {
  let work: string;
  let clone: string;
  let origin: string;
  let current: string;
  let pushed: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'mlgate-release-'));
    clone = await cloneWorkingTree(path.join(work, 'clone'));
    // The repository's own notes for its next release are not this test's: it starts from an empty Unreleased section.
    const log = await readFile(path.join(clone, 'CHANGELOG.md'), 'utf8');
    const emptied = log.replace(/^## \[Unreleased\]\n[\s\S]*?(?=^## \[)/m, '## [Unreleased]\n\n');
    if (emptied !== log) {
      await writeFile(path.join(clone, 'CHANGELOG.md'), emptied);
      gitIn(clone, 'commit', '-q', '-am', 'Start from an empty Unreleased section');
    }
    origin = path.join(work, 'origin.git');
    gitIn(work, 'init', '-q', '--bare', origin);
    gitIn(clone, 'remote', 'add', 'origin', origin);
    gitIn(clone, 'push', '-q', 'origin', 'main');
    pushed = gitIn(clone, 'rev-parse', 'HEAD');
    current = ((await json(path.join(clone, 'package.json'))).version as string);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const tags = () => gitIn(clone, 'tag', '--list').split('\n').filter(Boolean).sort();

  it('refuses a malformed version, a version not above the current one, and a dirty tree — changing nothing', async () => {
    const before = gitIn(clone, 'rev-parse', 'HEAD');
    expect(release(clone, '1.2')).toMatchObject({ code: 1, out: expect.stringContaining('usage') });
    expect(release(clone, current)).toMatchObject({ code: 1, out: expect.stringContaining(`not above the current version ${current}`) });
    await writeFile(path.join(clone, 'stray.txt'), 'x\n');
    expect(release(clone, bumpMinor(current))).toMatchObject({ code: 1, out: expect.stringContaining('not clean') });
    await rm(path.join(clone, 'stray.txt'));
    expect(gitIn(clone, 'rev-parse', 'HEAD')).toBe(before);
    expect(tags()).toEqual([]);
  });

  it('refuses a release with nothing in the Unreleased section of the changelog', () => {
    const changelog = gitIn(clone, 'show', 'HEAD:CHANGELOG.md');
    expect(changelog).toMatch(/^## \[Unreleased\]\n+## \[/m);
    expect(release(clone, bumpMinor(current))).toMatchObject({ code: 1, out: expect.stringContaining('Unreleased section of CHANGELOG.md is empty') });
    expect(tags()).toEqual([]);
  });

  it('bumps, moves the changelog, versions the schemas, rebuilds dist, commits and tags vX.Y.Z and vX — and pushes nothing', async () => {
    const version = bumpMinor(current);
    const major = `v${version.split('.')[0]}`;
    const changelog = await readFile(path.join(clone, 'CHANGELOG.md'), 'utf8');
    await writeFile(path.join(clone, 'CHANGELOG.md'), changelog.replace('## [Unreleased]\n', '## [Unreleased]\n\n### Fixed\n\n- A note for the next release.\n'));
    gitIn(clone, 'commit', '-q', '-am', 'Note a fix');

    const r = release(clone, version, '--date', '2027-01-15');
    expect(r.out).toContain(`git push --atomic origin HEAD v${version}`);
    expect(r.code).toBe(0);

    expect((await json(path.join(clone, 'package.json'))).version).toBe(version);
    const lock = await json(path.join(clone, 'package-lock.json'));
    expect(lock.version).toBe(version);
    expect((lock.packages as Record<string, { version: string }>)['']!.version).toBe(version);

    const after = await readFile(path.join(clone, 'CHANGELOG.md'), 'utf8');
    expect(after).toMatch(new RegExp(`## \\[Unreleased\\]\\n\\n## \\[${version}\\] - 2027-01-15\\n\\n### Fixed\\n\\n- A note for the next release\\.\\n\\n## \\[${current}\\]`));
    expect(after).toContain(`[Unreleased]: https://github.com/mlgate/mlgate/compare/v${version}...HEAD`);
    expect(after).toContain(`[${version}]: https://github.com/mlgate/mlgate/compare/v${current}...v${version}`);

    for (const file of ['policy.schema.json', 'report.schema.json', 'baseline.schema.json']) {
      expect((await json(path.join(clone, 'schema', file))).$id).toBe(`https://raw.githubusercontent.com/mlgate/mlgate/v${version}/schema/${file}`);
    }
    const catalog = (await json(path.join(clone, 'schema/catalog.json'))) as { schemas: { url: string; versions: Record<string, string> }[] };
    for (const entry of catalog.schemas) {
      expect(entry.url).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/mlgate/mlgate/${major}/schema/`));
      expect(entry.versions[version]).toBe(entry.url.replace(`/${major}/`, `/v${version}/`));
      expect(Object.keys(entry.versions)).toContain(current);
    }
    // The rebuilt bundle carries the version in --version, help links and the init comment.
    const cli = (...a: string[]) => spawnSync(process.execPath, [path.join(clone, 'dist/cli.js'), ...a], { cwd: work, encoding: 'utf8' });
    expect(cli('--version').stdout.trim()).toBe(version);
    const demo = path.join(clone, 'examples/demo-repo');
    const report = JSON.parse(cli('check', demo, '--root', demo, '--format', 'json').stdout) as { tool: { version: string }; findings: { help: string }[] };
    expect(report.tool.version).toBe(version);
    expect(report.findings[0]!.help).toContain(`/blob/v${version}/docs/rules/`);
    const initDir = await mkdtemp(path.join(work, 'init-'));
    expect(cli('init', initDir).status).toBe(0);
    expect(await readFile(path.join(initDir, '.github/mlgate.yml'), 'utf8')).toMatch(
      new RegExp(`^# yaml-language-server: \\$schema=https://raw\\.githubusercontent\\.com/mlgate/mlgate/v${version.replaceAll('.', '\\.')}/schema/policy\\.schema\\.json\\n`),
    );

    expect(gitIn(clone, 'status', '--porcelain')).toBe('');
    expect(gitIn(clone, 'log', '-1', '--format=%s', 'HEAD~1').trim()).toBe(`Release v${version}`);
    expect(gitIn(clone, 'describe', '--exact-match', '--tags', 'HEAD~1').trim()).toBe(`v${version}`);
    expect(gitIn(clone, 'cat-file', '-t', `v${version}`).trim()).toBe('tag'); // annotated: the release has a message
    expect(gitIn(clone, 'rev-parse', `${major}^{commit}`)).toBe(gitIn(clone, 'rev-parse', 'HEAD~1'));
    // The commit after the tag pins every example workflow to the released commit.
    const releasedSha = gitIn(clone, 'rev-parse', 'HEAD~1').trim();
    expect(gitIn(clone, 'log', '-1', '--format=%s').trim()).toBe(`Point the example workflows at v${version}`);
    for (const file of ['mlgate.yml', 'mlgate-code-scanning.yml', 'org-required-workflow.yml', 'sign-models.yml']) {
      const text = await readFile(path.join(clone, 'examples/workflows', file), 'utf8');
      expect(text).toContain(`uses: mlgate/mlgate@${releasedSha} # v${version}`);
      expect(text).not.toMatch(/mlgate\/mlgate@0{40}/);
    }
    expect(await readFile(path.join(clone, 'examples/workflows/org-sweep.yml'), 'utf8')).toContain(`MLGATE_SHA: '${releasedSha}' # v${version}`);
    expect(gitIn(origin, 'tag', '--list').trim()).toBe('');
    expect(gitIn(origin, 'rev-parse', 'main')).toBe(pushed);

    // The next patch release moves the major tag; the old version tag stays where it was.
    const released = gitIn(clone, 'rev-parse', 'HEAD~1').trim();
    await writeFile(path.join(clone, 'CHANGELOG.md'), after.replace('## [Unreleased]\n', '## [Unreleased]\n\n### Fixed\n\n- Another.\n'));
    gitIn(clone, 'commit', '-q', '-am', 'Another fix');
    const patch = version.replace(/\.0$/, '.1');
    expect(release(clone, patch, '--date', '2027-01-20').code).toBe(0);
    expect(gitIn(clone, 'rev-parse', `${major}^{commit}`)).toBe(gitIn(clone, 'rev-parse', 'HEAD~1'));
    expect(await readFile(path.join(clone, 'examples/workflows/mlgate.yml'), 'utf8')).toContain(`# v${patch}`);
    expect(gitIn(clone, 'rev-parse', `v${version}^{commit}`).trim()).toBe(released);
    expect(release(clone, patch).out).toContain('not above');
  }, 180_000);
});
