import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { runCli } from './helpers/cli.js';
import { isolatedEnv, run } from './helpers/npm.js';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies?: Record<string, string>;
  files: string[];
  engines: { node: string };
};

interface Packed {
  filename: string;
  unpackedSize: number;
  files: { path: string }[];
}

/**
 * The package as a user gets it: `npm pack`, then `npm install <tarball>` into
 * an empty project outside the source tree, offline, with a cache that holds
 * nothing — so the install can only succeed if the tarball needs nothing else.
 */
describe('the npm package', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let packed: Packed;
  let project: string;
  let install: ReturnType<typeof run>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'mlgate-pack-'));
    env = await isolatedEnv(path.join(work, 'home'));
    const p = run('npm', ['pack', '--json', '--pack-destination', work], ROOT, env);
    expect(p.code, p.stderr).toBe(0);
    packed = (JSON.parse(p.stdout) as Packed[])[0]!;
    project = path.join(work, 'project');
    await cp(path.join(ROOT, 'examples/demo-repo'), path.join(work, 'demo'), { recursive: true });
    await mkdir(project, { recursive: true });
    await writeFile(path.join(project, 'package.json'), '{ "name": "empty-project", "version": "1.0.0", "private": true }\n');
    install = run('npm', ['install', '--no-save', '--foreground-scripts', path.join(work, packed.filename)], project, env);
  }, 240_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('declares no runtime dependencies: dist/ bundles them', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('ships the bundles, their WebAssembly, the docs, the schemas, the action, the licence and the changelog — and nothing else', () => {
    const files = packed.files.map((f) => f.path).sort();
    for (const f of ['dist/cli.js', 'dist/index.js', 'dist/web-tree-sitter.wasm', 'dist/tree-sitter-python.wasm', 'schema/policy.schema.json', 'schema/report.schema.json', 'action.yml', 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']) {
      expect(files).toContain(f);
    }
    for (const rule of RULES) expect(files).toContain(`docs/rules/${rule.id}.md`);
    const top = new Set(files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'action.yml', 'dist', 'docs', 'package.json', 'schema']);
    // The tarball holds what the bundles need; a bundle that started shipping node_modules would blow this.
    expect(packed.unpackedSize).toBeLessThan(12 * 1024 * 1024);
  });

  it('installs offline from the tarball alone: one package, no install scripts', async () => {
    expect(install.code, install.stderr).toBe(0);
    const installed = (await readdir(path.join(project, 'node_modules'))).filter((n) => !n.startsWith('.'));
    expect(installed).toEqual(['mlgate']);
    const manifest = JSON.parse(await readFile(path.join(project, 'node_modules/mlgate/package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[hook]).toBeUndefined();
    // --foreground-scripts prints every lifecycle script npm runs; there must be none.
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/^> /m);
  });

  it('npx mlgate --version prints the package version', () => {
    const r = run('npx', ['--no-install', 'mlgate', '--version'], project, env);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.code).toBe(0);
  });

  it('mlgate check fails the demo repository with the same findings as the source tree, Python parser included', () => {
    const demo = path.join(work, 'demo');
    const bin = path.join(project, 'node_modules/.bin/mlgate');
    const r = run(bin, ['check', demo, '--format', 'json'], project, env);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { tool: { version: string }; findings: { rule: string; code?: string; path?: string; line?: number; help: string; fingerprint: string }[] };
    expect(report.tool.version).toBe(pkg.version);
    // torch.load in train.py is found through the tree-sitter grammar the package carries.
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'unsafe-deserialization/torch-load', path: 'train.py', line: 8 }));
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'model-file-safety/dangerous-global', path: 'models/legacy/model.pkl' }));
    for (const f of report.findings) expect(f.help).toBe(`https://github.com/mlgate/mlgate/blob/v${pkg.version}/docs/rules/${f.rule}.md`);
    const fromSource = JSON.parse(runCli(['check', demo, '--format', 'json']).stdout) as typeof report;
    expect(report.findings.map((f) => f.fingerprint).sort()).toEqual(fromSource.findings.map((f) => f.fingerprint).sort());
  });

  it('mlgate rules lists every rule and shows a rule page from the installed docs', () => {
    const bin = path.join(project, 'node_modules/.bin/mlgate');
    const list = run(bin, ['rules'], project, env);
    expect(list.code, list.stderr).toBe(0);
    for (const rule of RULES) expect(list.stdout).toMatch(new RegExp(`^${rule.id}\\s`, 'm'));
    const page = run(bin, ['rules', 'model-file-safety'], project, env);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain('dangerous-global');
  });

  it('the README states the Node versions engines names, and how to install', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Quick start'));
    const lines = [...pkg.engines.node.matchAll(/\^(\d+)\.(\d+)\.\d+/g)];
    expect(lines.map((m) => m[1])).toEqual(['20', '22', '24']);
    for (const [, major, minor] of lines) expect(install).toContain(`${major} (${major}.${minor}`);
    expect(install).toContain('npm i -g mlgate');
    expect(install).toContain('npx mlgate check');
  });
});
