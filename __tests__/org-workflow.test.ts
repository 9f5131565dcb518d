import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { makeRepo } from './helpers/repo.js';

const WORKFLOW = path.resolve(__dirname, '../examples/workflows/org-sweep.yml');
const SCHEMA = path.resolve(__dirname, 'fixtures/schemastore/github-workflow.json');

async function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(JSON.parse(await readFile(SCHEMA, 'utf8')));
}

type Workflow = {
  on: Record<string, unknown> & { workflow_call: { inputs: Record<string, unknown>; secrets: Record<string, unknown> } };
  permissions: unknown;
  jobs: Record<string, { permissions: Record<string, string>; steps: Array<{ uses?: string; run?: string; env?: Record<string, string> }>; strategy?: { matrix: unknown } }>;
};

describe('examples/workflows/org-sweep.yml', () => {
  it('is valid against the GitHub workflow schema from SchemaStore', async () => {
    const validate = await validator();
    const doc = load(await readFile(WORKFLOW, 'utf8'));
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema can fail: a job without runs-on or steps is refused.
    const broken = structuredClone(doc) as Workflow;
    (broken.jobs.plan as Record<string, unknown>)['runs-on'] = undefined;
    delete (broken.jobs.plan as Record<string, unknown>)['runs-on'];
    (broken.jobs.plan as Record<string, unknown>).stepz = broken.jobs.plan!.steps;
    delete (broken.jobs.plan as Record<string, unknown>).steps;
    expect(validate(broken)).toBe(false);
  });

  it('is a reusable and scheduled workflow with least privilege and the three jobs', async () => {
    const doc = load(await readFile(WORKFLOW, 'utf8')) as Workflow;
    expect(Object.keys(doc.on).sort()).toEqual(['schedule', 'workflow_call']);
    expect(Object.keys(doc.on.workflow_call.secrets)).toEqual(['token']);
    expect(doc.permissions).toEqual({});
    expect(Object.keys(doc.jobs)).toEqual(['plan', 'check', 'merge']);
    expect(doc.jobs.plan!.permissions).toEqual({ contents: 'read' });
    expect(doc.jobs.check!.permissions).toEqual({ contents: 'read' });
    expect(doc.jobs.merge!.permissions).toEqual({ actions: 'read', contents: 'read' });
    expect(doc.jobs.check!.strategy!.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    for (const job of Object.values(doc.jobs)) {
      for (const step of job.steps) {
        if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        // Repository-derived values reach scripts through env, never spliced into the script text.
        if (step.run) expect(step.run).not.toMatch(/\$\{\{/);
      }
    }
  });

  it("passes mlgate's own dependency-pinning rule, which fails it with a tag instead of a SHA", async () => {
    const text = await readFile(WORKFLOW, 'utf8');
    const policy = 'version: 1\nrules:\n  dependency-pinning:\n    level: error\n';
    const good = await makeRepo({ '.github/workflows/org-sweep.yml': text, '.github/mlgate.yml': policy });
    const ok = runCli(['check', good, '--format', 'json']);
    const report = JSON.parse(ok.stdout);
    expect(report.findings).toEqual([]);
    expect(report.rules.find((r: { id: string }) => r.id === 'dependency-pinning')).toMatchObject({ level: 'error', evaluated: true });
    expect(ok.code).toBe(0);
    const bad = await makeRepo({ '.github/workflows/org-sweep.yml': text.replace(/actions\/download-artifact@[0-9a-f]{40}/, 'actions/download-artifact@v4'), '.github/mlgate.yml': policy });
    const ko = runCli(['check', bad, '--format', 'json']);
    expect(ko.code).toBe(1);
    expect(JSON.parse(ko.stdout).findings.map((f: { rule: string; path: string }) => `${f.rule} ${f.path}`)).toEqual(['dependency-pinning .github/workflows/org-sweep.yml']);
  });
});
