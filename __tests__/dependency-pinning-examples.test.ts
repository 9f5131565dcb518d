import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyPinning } from '../src/checks/dependency-pinning.js';
import { runRuleOn } from './helpers/repo.js';

// The registry test's checks, run here until the rule is registered.
describe('dependency-pinning as the registry sees it', () => {
  it('passes its passing example', async () => {
    const ex = dependencyPinning.examples.pass;
    expect((await runRuleOn(dependencyPinning, ex.files, { params: ex.params })).map((f) => f.code)).toEqual(ex.expect);
  });

  it('fails its failing example with exactly the expected sub-codes', async () => {
    const ex = dependencyPinning.examples.fail;
    const findings = await runRuleOn(dependencyPinning, ex.files, { params: ex.params });
    expect(findings.map((f) => f.code).sort()).toEqual([...ex.expect].sort());
  });

  it('has a docs page that documents every parameter and sub-code', async () => {
    const page = await readFile(path.resolve(__dirname, '../docs/rules/dependency-pinning.md'), 'utf8');
    await expect(access(path.resolve(__dirname, '../docs/rules/dependency-pinning.md'))).resolves.toBeUndefined();
    expect(page.startsWith('# dependency-pinning')).toBe(true);
    for (const p of Object.keys((dependencyPinning.paramsSchema as { properties: object }).properties)) expect(page).toContain(`\`${p}\``);
    for (const code of ['unpinned-requirement', 'missing-hash', 'unresolved-include', 'missing-lockfile', 'stale-lockfile', 'unpinned-image', 'unpinned-action', 'unpinned-install', 'download-and-run', 'malformed']) {
      expect(page).toContain(`\`${code}\``);
    }
    expect(page).toMatch(/exceptions:/);
  });
});
