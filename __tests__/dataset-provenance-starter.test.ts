import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasetProvenance } from '../src/checks/dataset-provenance.js';
import { starterDatasets, starterHashes, starterProvenance } from '../src/checks/dataset-provenance/starter.js';
import { parseProvenance } from '../src/formats/provenance.js';
import { scanRepository } from '../src/inventory/scan.js';
import { makeRepo, runRuleOnDir, summarise, writeTree } from './helpers/repo.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const oid = sha('real bytes');

describe('starter PROVENANCE.yml for mlgate init', () => {
  it('writes one file per top dataset directory with real digests, and the rule then asks only for the TODOs', async () => {
    const dir = await makeRepo({
      'data/reviews/train.csv': 'a,b\n1,2\n',
      'data/reviews/test.csv': 'a,b\n3,4\n',
      'data/raw/dump.parquet': `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize 10\n`,
      'data/README.md': '# data\n',
      'datasets/faq/q a.jsonl': '{}\n',
      'datasets/PROVENANCE.yml': 'source: https://x.org\n',
      'src/fixtures/sample.csv': 'x\n',
    });
    const { inventory } = await scanRepository(dir);
    const paths = starterDatasets(inventory);
    expect(paths).toEqual(['data/raw/dump.parquet', 'data/reviews/test.csv', 'data/reviews/train.csv', 'datasets/faq/q a.jsonl', 'src/fixtures/sample.csv']);
    const hashes = await starterHashes(inventory, paths);
    const out = starterProvenance(inventory, hashes);
    expect(out.map((f) => f.path)).toEqual(['data/PROVENANCE.yml', 'src/fixtures/PROVENANCE.yml']);
    const data = out[0]!.text;
    expect(data).toContain(`  raw/dump.parquet: {sha256: ${oid}}`);
    expect(data).toContain(`  reviews/train.csv: {sha256: ${sha('a,b\n1,2\n')}}`);
    expect(data).toContain('source: TODO');

    await writeTree(dir, Object.fromEntries(out.map((f) => [f.path, f.text])));
    const findings = await runRuleOnDir(datasetProvenance, dir);
    expect(summarise(findings)).toEqual([
      'missing-field@data/PROVENANCE.yml',
      'missing-field@data/PROVENANCE.yml',
      'missing-field@data/PROVENANCE.yml',
      'missing-field@datasets/PROVENANCE.yml',
      'missing-field@datasets/PROVENANCE.yml',
      'missing-field@datasets/PROVENANCE.yml',
      'missing-field@src/fixtures/PROVENANCE.yml',
      'missing-field@src/fixtures/PROVENANCE.yml',
      'missing-field@src/fixtures/PROVENANCE.yml',
    ]);
    expect(findings.filter((f) => f.path === 'data/PROVENANCE.yml').every((f) => f.message.includes('placeholder'))).toBe(true);
  });

  it('never lists code, configuration or documentation that sits beside the data', async () => {
    const dir = await makeRepo({
      'data/train.csv': 'a\n1\n',
      'data/prepare.py': 'import pandas\n',
      'data/download.sh': 'wget x\n',
      'data/configs/imagenet.yaml': 'batch: 32\n',
      'data/hparams.yml': 'lr: 0.1\n',
      'data/readme.md': '# data\n',
      'data/ReadMe.txt': 'about\n',
      'data/README': 'about\n',
      'data/LICENSE': 'CC-BY-4.0\n',
      'data/notes.md': 'how it was collected\n',
      'data/corpus.txt': 'a sentence\n',
      'data/labels.json': '{}\n',
      'data/images/cat.png': 'png',
    });
    const { inventory } = await scanRepository(dir);
    expect(starterDatasets(inventory)).toEqual(['data/corpus.txt', 'data/images/cat.png', 'data/labels.json', 'data/train.csv']);
    // A glob that names the extension says those files are data after all.
    expect(starterDatasets(inventory, ['data/**', 'data/configs/*.{yaml,json}'])).toEqual(['data/configs/imagenet.yaml', 'data/corpus.txt', 'data/images/cat.png', 'data/labels.json', 'data/train.csv']);
    const findings = await runRuleOnDir(datasetProvenance, dir);
    expect(summarise(findings)).toEqual(['missing-record@data/corpus.txt', 'missing-record@data/images/cat.png']);
    const text = findings.map((f) => f.message).join('\n');
    expect(text).toContain('data/train.csv');
    expect(text).not.toMatch(/prepare\.py|download\.sh|imagenet\.yaml|hparams|readme|README|LICENSE|notes\.md/);
  });

  it('writes TODO for digests it was not given, and quotes odd file names', async () => {
    const { inventory } = await scanRepository(await makeRepo({ 'data/#x: y.csv': 'a\n' }));
    const [file] = starterProvenance(inventory);
    expect(file!.text).toContain('  "#x: y.csv": {sha256: TODO}');
  });

  it('produces YAML the provenance parser accepts for any file name', async () => {
    const names = fc.sample(fc.stringMatching(/^[a-zA-Z0-9 #:'"{}[\],&*!|>%@`-]{1,20}$/), 30).map((n) => `data/${n.replace(/^[ ]+|[ ]+$/g, '') || 'x'}.csv`);
    const { inventory } = await scanRepository(await makeRepo(Object.fromEntries(names.map((n) => [n, 'a\n']))));
    for (const f of starterProvenance(inventory)) {
      const rec = parseProvenance(f.text, 'directory');
      expect(rec.problems).toEqual([]);
      expect(rec.files.size).toBe(inventory.files.length);
    }
  });
});
