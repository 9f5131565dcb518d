import { describe, expect, it, vi } from 'vitest';
import { modelHubPinning } from '../src/checks/model-hub-pinning.js';
import { unsafeDeserialization } from '../src/checks/unsafe-deserialization.js';
import { silentLogger } from '../src/core/logger.js';
import { runRule } from '../src/engine/rule-context.js';
import { scanRepository } from '../src/inventory/scan.js';
import { makeRepo, summarise } from './helpers/repo.js';

describe('Python files shared by rules', () => {
  it('reads and parses each file once for both rules of a run', async () => {
    const dir = await makeRepo({
      'a.py': 'import torch\nm = torch.hub.load("pytorch/vision", "resnet50")\nstate = torch.load(p)\n',
      'b.py': 'from transformers import AutoModel\nAutoModel.from_pretrained("gpt2", trust_remote_code=True)\n',
    });
    const { inventory } = await scanRepository(dir);
    const reads = vi.spyOn(inventory, 'readText');
    const run = (rule: typeof unsafeDeserialization | typeof modelHubPinning) =>
      runRule({ rule, params: {}, inventory, changed: null, now: new Date('2026-11-28T12:00:00Z'), logger: silentLogger });
    expect(summarise(await run(unsafeDeserialization))).toEqual(['torch-load@a.py:3', 'trust-remote-code@b.py:2']);
    expect(summarise(await run(modelHubPinning))).toEqual(['unpinned@a.py:2', 'unpinned@b.py:2']);
    expect(reads.mock.calls.map((c) => c[0]).sort()).toEqual(['a.py', 'b.py']);
  });

  it('does not keep a failure: the next rule retries with its own budget', async () => {
    const dir = await makeRepo({ 'a.py': `import pickle\npickle.load(f)\n${'#'.repeat(3000)}\n` });
    const { inventory } = await scanRepository(dir);
    const base = { params: {}, inventory, changed: null, now: new Date('2026-11-28T12:00:00Z'), logger: silentLogger };
    expect(summarise(await runRule({ ...base, rule: unsafeDeserialization, budget: { maxFileBytes: 1000 } }))).toEqual(['budget-exceeded@a.py']);
    expect(summarise(await runRule({ ...base, rule: unsafeDeserialization }))).toEqual(['pickle-load@a.py:2']);
  });
});
