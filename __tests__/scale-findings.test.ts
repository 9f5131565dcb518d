import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeScaleRepo, SMALL_SHAPE } from './helpers/scale-repo.js';
import { evaluateScale, goldenOf } from './helpers/run-scale.js';

// Goldens recorded from the code before issue 13 (listing by lstat, one
// promise-based read per rule and file) on the same generated repository.
const golden = (mode: string): string => readFileSync(new URL(`./fixtures/scale/golden-${mode}.json`, import.meta.url), 'utf8');

describe('no loss of findings at scale', () => {
  it('full mode gives the same findings, message for message, as before the index listing and the shared reader', async () => {
    const dir = await makeScaleRepo(SMALL_SHAPE);
    const report = await evaluateScale(dir, 'full');
    // The planted findings span the rules: a gate that lost a rule's findings would fail here.
    expect(new Set(report.findings.map((f) => f.rule)).size).toBeGreaterThanOrEqual(8);
    expect(goldenOf(report)).toBe(golden('full'));
  }, 60_000);
});

describe('changed mode keeps every finding it had', () => {
  it('reports what it did before, plus findings on what the change invalidates (the workflow and Dockerfile that install a changed requirements file)', async () => {
    const dir = await makeScaleRepo(SMALL_SHAPE);
    const report = await evaluateScale(dir, 'changed');
    const key = (f: { code?: string; path?: string; line?: number; message: string }): string => `${f.code}@${f.path}:${f.line} ${f.message}`;
    const before = (JSON.parse(golden('changed')) as { code?: string; path?: string; line?: number; message: string }[]).map(key);
    const now = report.findings.map(key);
    expect(before.filter((k) => !now.includes(k))).toEqual([]);
    // What the old code left out: the installers of the two changed requirements files, now judged with them.
    const added = report.findings.filter((f) => !before.includes(key(f)));
    expect([...new Set(added.map((f) => f.path))].sort()).toEqual(['.github/workflows/ci.yml', 'Dockerfile']);
    expect(added.map((f) => f.code)).toContain('dependency-pinning/unpinned-install');
    expect(added.find((f) => f.path === '.github/workflows/ci.yml' && f.code === 'dependency-pinning/unpinned-install')?.message).toContain('services/svc0002/requirements.txt:2');
  }, 60_000);
});
