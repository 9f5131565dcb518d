import { describe, expect, it } from 'vitest';
import { RULES } from '../src/checks/registry.js';
import { invalidatedBy } from '../src/engine/invalidation.js';
import { createChangedSet } from '../src/inventory/changed.js';
import { createDependencyIndex } from '../src/inventory/dependency-index.js';
import { gitChanges } from '../src/inventory/git-changes.js';
import { scanRepository } from '../src/inventory/scan.js';
import { makeScaleRepo } from './helpers/scale-repo.js';
import { evaluateScale } from './helpers/run-scale.js';

describe('changed mode at scale', () => {
  it('a 10-file change in a 5,000-file repository opens only the change, what the rules declare it invalidates, and the configuration', async () => {
    const dir = await makeScaleRepo({ services: 50, modules: 90, datasets: 8 });
    const opened = new Set<string>();
    await evaluateScale(dir, 'changed', (p) => opened.add(p));

    const { inventory } = await scanRepository(dir);
    expect(inventory.files.length).toBeGreaterThan(5000);
    const changed = createChangedSet(await gitChanges(dir, 'HEAD~1', 'HEAD'));
    expect(changed.all()).toHaveLength(10);
    const index = createDependencyIndex(inventory);
    const declared = new Set(changed.all());
    for (const rule of RULES) {
      const inv = invalidatedBy(rule, {}, changed, index);
      for (const p of [...inv.dependents, ...inv.inputs]) declared.add(p);
    }
    // Repository configuration every run reads: the policy, CODEOWNERS and threat-model locations (none here but the policy).
    const config = ['.github/mlgate.yml'];
    const unexpected = [...opened].filter((p) => !declared.has(p) && !config.includes(p));
    expect(unexpected).toEqual([]);
    // The bound does not grow with the repository: 10 changed files, the 8 datasets of one changed record and
    // the records beside them, one model's two files, and the workflow, Dockerfile and requirements files near the
    // two changed requirements files.
    expect(opened.size).toBeLessThanOrEqual(10 + 8 + 2 * 4 + 2 + 4 + config.length);
    // Every changed file that a rule evaluates was opened (the spy sees what the rules read).
    for (const p of changed.changed) if (!p.endsWith('.csv')) expect(opened, p).toContain(p);
  }, 120_000);
});
