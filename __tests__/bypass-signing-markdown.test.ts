import { mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { modelSigning } from '../src/checks/model-signing.js';
import { evaluate } from '../src/core/evaluate.js';
import { silentLogger } from '../src/core/logger.js';
import { gitIn, makeRepo, runRuleOnDir, summarise, type FileTree } from './helpers/repo.js';
import { memoryProvider } from './helpers/policy.js';
import { bundleFor, keyPair, signModel, statement } from './model-signing-signer.js';

const key = keyPair('P-256');
const WEIGHTS = { 'model.safetensors': 'weights '.repeat(40), 'config.json': '{"layers": 2}\n', 'sub/tokenizer.json': '{"vocab": []}\n' };
const params = { signers: [{ method: 'key', 'public-key': key.publicPem }] };
const now = new Date('2026-11-28T12:00:00Z');

/** models/m signed over WEIGHTS, an evil.py at the top, and the given links (repository path → target) added after signing. */
async function signedRepo(links: Record<string, string>, opts: { extra?: FileTree; sig?: string; git?: boolean } = {}): Promise<string> {
  const tree: FileTree = { 'models/m/model.sig': opts.sig ?? signModel({ key, files: WEIGHTS }), 'evil.py': 'import os\nos.system("id")\n', ...opts.extra };
  for (const [p, c] of Object.entries(WEIGHTS)) tree[`models/m/${p}`] = c;
  const dir = await makeRepo(tree, { git: opts.git });
  await addLinks(dir, links);
  return dir;
}

async function addLinks(dir: string, links: Record<string, string>): Promise<void> {
  for (const [p, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await symlink(target, path.join(dir, p));
  }
}

describe('model-signing: a symlink added to a signed model', () => {
  it('is an error on the link, saying where it points and how to fix it', async () => {
    const dir = await signedRepo({ 'models/m/modeling.py': '../../evil.py' });
    const findings = await runRuleOnDir(modelSigning, dir, { params });
    expect(summarise(findings)).toEqual(['symlink@models/m/modeling.py']);
    expect(findings[0]!.message).toContain('points to "../../evil.py"');
    expect(findings[0]!.message).toMatch(/Replace the link with the file itself .* re-sign the model/);
  });

  it('is never followed: a link to a copy of the signed content is still an error, and not also a missing file', async () => {
    const dir = await signedRepo({}, { extra: { 'copy.json': WEIGHTS['config.json'] } });
    await rm(path.join(dir, 'models/m/config.json'));
    await addLinks(dir, { 'models/m/config.json': '../../copy.json' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/config.json']);
  });

  it('a signed directory swapped for a link is one finding on the link', async () => {
    const dir = await signedRepo({}, { extra: { 'elsewhere/tokenizer.json': WEIGHTS['sub/tokenizer.json'] } });
    await rm(path.join(dir, 'models/m/sub'), { recursive: true });
    await addLinks(dir, { 'models/m/sub': '../../elsewhere' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/sub']);
  });

  it('a weight file swapped for a link does not take the model out of discovery', async () => {
    const dir = await signedRepo({}, { extra: { 'store/w.data': WEIGHTS['model.safetensors'] } });
    await rm(path.join(dir, 'models/m/model.safetensors'));
    await addLinks(dir, { 'models/m/model.safetensors': '../../store/w.data' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/model.safetensors']);
  });

  it('a hostile target is quoted as one string, control characters escaped', async () => {
    const target = '../x\r\n## ✅ Gate passed';
    const dir = await signedRepo({ 'models/m/a.py': target });
    const [f] = await runRuleOnDir(modelSigning, dir, { params });
    expect(f!.message).toContain(JSON.stringify(target));
    expect(f!.message).not.toMatch(/[\r\n]/);
  });

  it('is reported when the signer allowed symlinks too, and next to an invalid signature', async () => {
    const stmt = statement({ key, files: WEIGHTS });
    (stmt.predicate as { serialization: Record<string, unknown> }).serialization.allow_symlinks = true;
    const allowed = await signedRepo({ 'models/m/modeling.py': '../../evil.py' }, { sig: bundleFor(Buffer.from(JSON.stringify(stmt)), { key }) });
    const [f] = await runRuleOnDir(modelSigning, allowed, { params });
    expect(summarise([f!])).toEqual(['symlink@models/m/modeling.py']);
    expect(f!.message).toMatch(/allowed symlinks, but mlgate never follows links/);

    const broken = await signedRepo({ 'models/m/modeling.py': '../../evil.py' }, { sig: '{"not": "a bundle"}' });
    expect(summarise(await runRuleOnDir(modelSigning, broken, { params }))).toEqual(['invalid-signature@models/m/model.sig', 'symlink@models/m/modeling.py']);
  });

  it('a link under ignore-paths, or under .github at the model root, is left out as model_signing leaves it out', async () => {
    const dir = await signedRepo({ 'models/m/runs/latest': '../../evil.py', 'models/m/.github/x.yml': '../../../evil.py' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params: { ...params, 'ignore-paths': ['runs'] } }))).toEqual([]);
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params }))).toEqual(['symlink@models/m/runs/latest']);
  });

  it('in changed mode, a change that only adds the link verifies the model', async () => {
    const dir = await signedRepo({}, { git: true });
    await addLinks(dir, { 'models/m/modeling.py': '../../evil.py' });
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params, changed: { added: ['models/m/modeling.py'] } }))).toEqual(['symlink@models/m/modeling.py']);
    expect(summarise(await runRuleOnDir(modelSigning, dir, { params, changed: { added: ['README.md'] } }))).toEqual([]);
    gitIn(dir, 'add', '-A');
    expect(gitIn(dir, 'diff', '--cached', '--name-only')).toBe('models/m/modeling.py\n');
  });

  describe('under mlgate:recommended, through the engine', () => {
    const policy = `version: 1\nextends: [mlgate:recommended]\nrules:\n  model-signing:\n    signers:\n      - method: key\n        public-key: |\n${key.publicPem.trim().split('\n').map((l) => `          ${l}`).join('\n')}\n`;
    const run = (root: string) => evaluate({ root, provider: memoryProvider({ '.github/mlgate.yml': policy }), mode: 'full', logger: silentLogger, toolVersion: '1.0.0', now });
    const signingErrors = (r: Awaited<ReturnType<typeof run>>) => r.findings.filter((f) => f.rule === 'model-signing' && f.level === 'error' && f.waived === null).map((f) => `${f.code}@${f.path}`);

    it('the link is an unwaived error that fails the gate; without it the model passes', async () => {
      const clean = await run(await signedRepo({}));
      expect(signingErrors(clean)).toEqual([]);
      expect(clean.conclusion).toBe('success');
      const linked = await run(await signedRepo({ 'models/m/modeling.py': '../../evil.py' }));
      expect(signingErrors(linked)).toEqual(['model-signing/symlink@models/m/modeling.py']);
      expect(linked.conclusion).toBe('failure');
      expect(linked.findings.filter((f) => f.rule === 'inventory').map((f) => `${f.code}:${f.level}`)).toEqual(['inventory/symlink:warning']);
    });

    it('near miss: a link outside every model root is only the inventory warning', async () => {
      const report = await run(await signedRepo({ 'docs/modeling.py': '../evil.py' }));
      expect(report.findings.filter((f) => f.path === 'docs/modeling.py').map((f) => `${f.code}:${f.level}`)).toEqual(['inventory/symlink:warning']);
      expect(signingErrors(report)).toEqual([]);
    });
  });
});
