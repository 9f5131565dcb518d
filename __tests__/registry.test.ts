import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { buildPolicySchema } from '../src/policies/schema.js';
import { builtinPolicyText, BUILTIN_NAMES } from '../src/policies/builtin/index.js';
import { parsePolicyLayer } from '../src/policies/load.js';
import { helpUrl } from '../src/core/version.js';
import { runRuleOn } from './helpers/repo.js';

const root = path.resolve(__dirname, '..');

describe('rule registry', () => {
  it('has unique, well-formed ids', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  describe.each(RULES.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    it('declares a parameter schema that rejects unknown keys', () => {
      expect(rule.paramsSchema).toMatchObject({ type: 'object', additionalProperties: false });
      for (const key of Object.keys(rule.tighten)) expect(Object.keys((rule.paramsSchema as { properties: object }).properties)).toContain(key);
    });

    it('documents the default of every parameter whose loosening depends on it', () => {
      const props = (rule.paramsSchema as { properties: Record<string, { default?: unknown }> }).properties;
      for (const [key, kind] of Object.entries(rule.tighten)) {
        // Under a lock, an unset parameter is compared through its default.
        if (['subset', 'allow-list', 'true-stays', 'false-stays', 'max'].includes(kind)) expect(props[key]?.default, `${rule.id}.${key}`).toBeDefined();
      }
    });

    it('has a docs page at the URL its findings link to', async () => {
      await expect(access(path.join(root, 'docs/rules', `${rule.id}.md`))).resolves.toBeUndefined();
      const page = await readFile(path.join(root, 'docs/rules', `${rule.id}.md`), 'utf8');
      expect(page).toMatch(new RegExp(`^# \`?${rule.id}\`?\n`));
      expect(page).toMatch(/exception/i);
      expect(helpUrl(rule.id, '1.2.3')).toBe(`https://github.com/mlgate/mlgate/blob/v1.2.3/docs/rules/${rule.id}.md`);
    });

    it('has references', () => {
      expect(rule.references.length).toBeGreaterThan(0);
      for (const r of rule.references) expect(r.url).toMatch(/^https:\/\//);
    });

    it('passes its passing example', async () => {
      const ex = rule.examples.pass;
      const findings = await runRuleOn(rule, ex.files, { params: ex.params, changed: ex.changed });
      expect(findings.map((f) => f.code), ex.description).toEqual(ex.expect);
    });

    it('fails its failing example', async () => {
      const ex = rule.examples.fail;
      expect(ex.expect.length).toBeGreaterThan(0);
      const findings = await runRuleOn(rule, ex.files, { params: ex.params, changed: ex.changed });
      expect(findings.map((f) => f.code).sort(), ex.description).toEqual([...ex.expect].sort());
    });
  });
});

describe('README', () => {
  it('lists every rule in its rules table', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    for (const rule of RULES) expect(readme).toContain(`| [\`${rule.id}\`](docs/rules/${rule.id}.md) | ${rule.summary} | ${rule.defaultLevel} |`);
  });
});

describe('published policy schema and built-in sets', () => {
  it('schema/policy.schema.json is what the registered rules produce (run `npm run schema`)', async () => {
    const committed = JSON.parse(await readFile(path.join(root, 'schema/policy.schema.json'), 'utf8'));
    expect(committed).toEqual(buildPolicySchema(RULES));
  });

  it.each(BUILTIN_NAMES)('%s validates and names every rule', (name) => {
    const layer = parsePolicyLayer(builtinPolicyText(name, RULES)!, name, '', { kind: 'builtin' }, RULES);
    expect(Object.keys(layer.doc.rules ?? {}).sort()).toEqual(RULES.map((r) => r.id).sort());
  });
});
