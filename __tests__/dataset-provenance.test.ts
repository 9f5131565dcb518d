import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasetProvenance } from '../src/checks/dataset-provenance.js';
import { runRuleOn, summarise, type FileTree } from './helpers/repo.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

const TRAIN = 'text,label\ngreat product,1\nbroke after a day,0\n';
const TEST = 'text,label\nworks fine,1\n';
const lfsPointer = (oid: string, size = 1234): string => `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;

const provenanceYml = (files: Record<string, string>, head = ['source: https://huggingface.co/datasets/acme/reviews', 'license: CC-BY-4.0', 'collected: 2026-05-02']): string =>
  [...head, 'files:', ...Object.entries(files).map(([k, v]) => `  ${k}: {sha256: ${v}}`), ''].join('\n');

const sidecar = (digest: string, extra: string[] = []): string =>
  ['source: https://huggingface.co/datasets/acme/reviews', 'license: CC-BY-4.0', 'collected: 2026-01-01/2026-03-31', `sha256: ${digest}`, ...extra, ''].join('\n');

const run = (files: FileTree, opts: Parameters<typeof runRuleOn>[2] = {}) => runRuleOn(datasetProvenance, files, opts).then(summarise);

describe('dataset-provenance: record forms', () => {
  const cases: { name: string; files: FileTree; params?: Record<string, unknown>; expect: string[] }[] = [
    { name: 'sidecar', files: { 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': sidecar(sha(TRAIN)) }, expect: [] },
    {
      name: 'PROVENANCE.yml in an ancestor, keys relative to its directory',
      files: { 'data/reviews/train.csv': TRAIN, 'data/reviews/test.csv': TEST, 'data/PROVENANCE.yml': provenanceYml({ 'reviews/train.csv': sha(TRAIN), 'reviews/test.csv': sha(TEST) }) },
      expect: [],
    },
    {
      name: 'the nearest PROVENANCE.yml wins over an ancestor one',
      files: {
        'data/reviews/train.csv': TRAIN,
        'data/reviews/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN) }),
        'data/PROVENANCE.yml': provenanceYml({}, ['license: CC-BY-4.0']),
      },
      expect: [],
    },
    {
      name: 'a per-file entry overrides the shared fields',
      files: { 'data/train.csv': TRAIN, 'data/PROVENANCE.yml': provenanceYml({ 'train.csv': `${sha(TRAIN)}, license: MIT` }) },
      params: { 'allowed-licenses': ['CC-BY-4.0'] },
      expect: ['license-not-allowed@data/PROVENANCE.yml:5'],
    },
    {
      name: 'Hugging Face dataset card for source/license/collected, PROVENANCE.yml for digests',
      files: {
        'datasets/reviews/train.jsonl': TRAIN,
        'datasets/reviews/README.md': ['---', 'license: cc-by-4.0', 'source_datasets:', '  - extended|amazon_polarity', 'annotations_creators: [crowdsourced]', 'collected: 2026-05-02', 'pretty_name: Reviews', '---', '# Reviews', ''].join('\n'),
        'datasets/reviews/PROVENANCE.yml': `files:\n  train.jsonl: {sha256: ${sha(TRAIN)}}\n`,
      },
      params: { 'allowed-licenses': ['CC-BY-4.0'], 'allowed-sources': ['huggingface.co'], require: ['source', 'license', 'collected', 'collection-process', 'sha256'] },
      expect: [],
    },
    {
      name: 'a model card README is not a dataset card',
      files: {
        'data/train.csv': TRAIN,
        'data/README.md': '---\nlicense: mit\nbase_model: bert-base-uncased\n---\n# x\n',
      },
      expect: ['missing-record@data/train.csv'],
    },
    {
      name: 'Croissant with a license URL, url, datePublished and a distribution sha256',
      files: {
        'data/train.csv': TRAIN,
        'data/croissant.json': JSON.stringify(
          {
            '@context': { '@vocab': 'https://schema.org/', cr: 'http://mlcommons.org/croissant/' },
            '@type': 'sc:Dataset',
            name: 'reviews',
            license: 'https://creativecommons.org/licenses/by/4.0/',
            url: 'https://data.acme.com/reviews',
            datePublished: '2026-05-02',
            distribution: [{ '@type': 'cr:FileObject', '@id': 'train', contentUrl: 'train.csv', encodingFormat: 'text/csv', sha256: sha(TRAIN) }],
          },
          null,
          2,
        ),
      },
      params: { 'allowed-licenses': ['CC-BY-4.0'], 'allowed-sources': ['*.acme.com'] },
      expect: [],
    },
    {
      name: 'DVC-tracked dataset absent from git: the record alone is checked',
      files: {
        'data/images.csv.dvc': ['outs:', '- md5: 0123456789abcdef0123456789abcdef', '  size: 10', '  hash: md5', '  path: images.csv', '  meta:', '    license: CC0-1.0', '    collected: 2026-02-01', ''].join('\n'),
        '.dvc/config': "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://acme-datasets/dvc\n",
      },
      params: { 'allowed-sources': ['acme-datasets'] },
      expect: [],
    },
    {
      name: 'dvc import records where the data came from',
      files: {
        'data/mnist.dvc': ['deps:', '- path: mnist', '  repo:', '    url: https://github.com/iterative/dataset-registry', '    rev_lock: f31f5c4cdae787b4bdeb97a717687d44667d9e62', 'outs:', '- md5: 0123456789abcdef0123456789abcdef.dir', '  path: mnist', ''].join('\n'),
      },
      params: { require: ['source', 'sha256'], 'allowed-sources': ['example.com'] },
      expect: ['source-not-allowed@data/mnist.dvc:4'],
    },
    {
      name: 'DVC-tracked file present with a wrong md5',
      files: { 'data/train.csv': TRAIN, 'data/train.csv.dvc': `outs:\n- md5: ${md5('other')}\n  hash: md5\n  path: train.csv\n  meta: {source: 'https://x.org/a', license: MIT, collected: '2026'}\n` },
      expect: ['digest-mismatch@data/train.csv.dvc:2'],
    },
    {
      name: 'DVC 2 md5 of a CRLF text file is that of its LF form',
      files: {
        'data/train.csv': TRAIN.replace(/\n/g, '\r\n'),
        'data/train.csv.dvc': `outs:\n- md5: ${md5(TRAIN)}\n  path: train.csv\n  meta: {source: 'https://x.org/a', license: MIT, collected: '2026'}\n`,
      },
      expect: [],
    },
    {
      name: 'DVC 3 (hash: md5) hashes the bytes as they are',
      files: {
        'data/train.csv': TRAIN.replace(/\n/g, '\r\n'),
        'data/train.csv.dvc': `outs:\n- md5: ${md5(TRAIN)}\n  hash: md5\n  path: train.csv\n  meta: {source: 'https://x.org/a', license: MIT, collected: '2026'}\n`,
      },
      expect: ['digest-mismatch@data/train.csv.dvc:2'],
    },
    {
      name: 'record files, READMEs and git files are not datasets',
      files: { 'data/README.md': '# Data\n', 'data/.gitattributes': '*.parquet filter=lfs\n', 'data/.gitignore': '/raw\n', 'data/.gitkeep': '' },
      expect: [],
    },
  ];
  it.each(cases)('$name', async (c) => {
    expect(await run(c.files, { params: c.params })).toEqual(c.expect.sort());
  });
});

describe('dataset-provenance: required fields', () => {
  const full = ['source: https://huggingface.co/datasets/acme/reviews', 'license: CC-BY-4.0', 'collected: 2026-05-02', `sha256: ${sha(TRAIN)}`];
  it.each([
    ['source', 0],
    ['license', 1],
    ['collected', 2],
    ['sha256', 3],
  ] as const)('a sidecar without %s', async (field, index) => {
    const lines = full.filter((_, i) => i !== index);
    const findings = await runRuleOn(datasetProvenance, { 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': `${lines.join('\n')}\n` });
    expect(summarise(findings)).toEqual(['missing-field@data/train.csv.provenance.yml']);
    expect(findings[0]!.message).toContain(`\`${field}\``);
  });

  it('a PROVENANCE.yml without an entry for a file points at `files:`', async () => {
    const findings = await runRuleOn(datasetProvenance, { 'data/train.csv': TRAIN, 'data/test.csv': TEST, 'data/PROVENANCE.yml': provenanceYml({ 'test.csv': sha(TEST) }) });
    expect(summarise(findings)).toEqual(['missing-field@data/PROVENANCE.yml:4']);
    expect(findings[0]!.message).toContain('train.csv: {sha256:');
  });

  it('TODO placeholders count as missing, and say so', async () => {
    const findings = await runRuleOn(datasetProvenance, { 'data/train.csv': TRAIN, 'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN) }, ['source: TODO', 'license: CC-BY-4.0', 'collected: 2026-05-02']) });
    expect(summarise(findings)).toEqual(['missing-field@data/PROVENANCE.yml']);
    expect(findings[0]!.message).toContain('placeholder');
  });

  it('a custom require list', async () => {
    const files = { 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': sidecar(sha(TRAIN)) };
    expect(await run(files, { params: { require: ['collection-process'] } })).toEqual(['missing-field@data/train.csv.provenance.yml']);
    expect(await run(files, { params: { require: ['license'] } })).toEqual([]);
  });

  it('says where each record form keeps a missing field', async () => {
    const card = await runRuleOn(datasetProvenance, { 'data/train.csv': TRAIN, 'data/README.md': '---\npretty_name: r\nlicense: mit\nsource: https://x.org\ncollected: 2026\n---\n' });
    expect(summarise(card)).toEqual(['missing-field@data/README.md']);
    expect(card[0]!.message).toContain('data/PROVENANCE.yml (`files: {train.csv: {sha256:');
    const dvc = await runRuleOn(datasetProvenance, { 'data/train.csv.dvc': `outs:\n- md5: ${md5('x')}\n  path: train.csv\n  meta: {source: 'https://x.org', collected: '2026'}\n` });
    expect(summarise(dvc)).toEqual(['missing-field@data/train.csv.dvc']);
    expect(dvc[0]!.message).toContain('`meta: {license: <SPDX id>}`');
  });

  it('a Space or model README is not a dataset card', async () => {
    expect(await run({ 'data/train.csv': TRAIN, 'README.md': '---\ntitle: demo\nsdk: gradio\nlicense: mit\n---\n' })).toEqual(['missing-record@data/train.csv']);
  });

  it('groups many unrecorded files of a directory into one finding', async () => {
    const files: FileTree = {};
    for (let i = 0; i < 40; i++) files[`data/shards/part-${i}.jsonl`] = `{"i":${i}}\n`;
    files['data/other/x.csv'] = 'a\n';
    const findings = await runRuleOn(datasetProvenance, files);
    expect(summarise(findings)).toEqual(['missing-record@data/other/x.csv', 'missing-record@data/shards/part-0.jsonl']);
    expect(findings.find((f) => f.path?.includes('shards'))!.message).toContain('40 dataset files');
  });
});

describe('dataset-provenance: digests', () => {
  it('a byte digest mismatch lands on the digest line of the record', async () => {
    const findings = await runRuleOn(datasetProvenance, { 'data/train.csv': TRAIN, 'data/test.csv': TEST, 'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN), 'test.csv': sha('tampered') }) });
    expect(summarise(findings)).toEqual(['digest-mismatch@data/PROVENANCE.yml:6']);
    expect(findings[0]!.message).toContain(sha(TEST));
  });

  it('a Git LFS pointer is checked by its oid without the content', async () => {
    const oid = sha('the real parquet bytes');
    expect(await run({ 'data/big.parquet': lfsPointer(oid), 'data/big.parquet.provenance.yml': sidecar(oid) })).toEqual([]);
    expect(await run({ 'data/big.parquet': lfsPointer(oid), 'data/big.parquet.provenance.yml': sidecar(sha('something else')) })).toEqual(['digest-mismatch@data/big.parquet.provenance.yml:4']);
  });

  it('reads an all-digit digest from the text, not as a YAML number', async () => {
    const findings = await runRuleOn(datasetProvenance, { 'data/a.csv': TRAIN, 'data/a.csv.provenance.yml': sidecar('1'.repeat(64)) });
    expect(summarise(findings)).toEqual(['digest-mismatch@data/a.csv.provenance.yml:4']);
  });

  it('a dataset larger than max-hash-bytes fails closed on the dataset', async () => {
    const big = 'x'.repeat(4096);
    const findings = await runRuleOn(datasetProvenance, { 'data/big.csv': big, 'data/big.csv.provenance.yml': sidecar(sha(big)) }, { params: { 'max-hash-bytes': 1024 } });
    expect(summarise(findings)).toEqual(['budget-exceeded@data/big.csv']);
    expect(await run({ 'data/big.csv': big, 'data/big.csv.provenance.yml': sidecar(sha(big)) })).toEqual([]);
  });

  it('an invalid digest is an invalid record at its line', async () => {
    expect(await run({ 'data/a.csv': TRAIN, 'data/a.csv.provenance.yml': sidecar('abc123') })).toEqual(['invalid-record@data/a.csv.provenance.yml:4', 'missing-field@data/a.csv.provenance.yml']);
  });
});

describe('dataset-provenance: allow-lists', () => {
  const files = (license: string, source: string): FileTree => ({
    'data/train.csv': TRAIN,
    'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN) }, [`source: ${source}`, `license: ${license}`, 'collected: 2026-05-02']),
  });
  const params = { 'allowed-licenses': ['CC-BY-4.0', 'cc0-1.0', 'Apache-2.0'], 'allowed-sources': ['huggingface.co', '*.acme.com'] };
  it.each([
    ['CC-BY-4.0', 'https://huggingface.co/datasets/acme/reviews', []],
    ['cc-by-4.0', 'https://HuggingFace.co/datasets/x', []],
    ['MIT OR Apache-2.0', 'https://data.acme.com/x', []],
    ['MIT AND Apache-2.0', 'https://data.acme.com/x', ['license-not-allowed@data/PROVENANCE.yml:2']],
    ['(CC0-1.0 OR MIT) AND Apache-2.0 WITH LLVM-exception', 'https://huggingface.co/x', []],
    ['GPL-3.0-only', 'https://huggingface.co/x', ['license-not-allowed@data/PROVENANCE.yml:2']],
    ['CC-BY-4.0', 'https://evil.example/x', ['source-not-allowed@data/PROVENANCE.yml:1']],
    ['CC-BY-4.0', 'https://acme.com/x', ['source-not-allowed@data/PROVENANCE.yml:1']],
    ['CC-BY-4.0', 'https://huggingface.co.evil.example/x', ['source-not-allowed@data/PROVENANCE.yml:1']],
    ['CC-BY-4.0', 'scraped from the web', ['source-not-allowed@data/PROVENANCE.yml:1']],
  ])('license %s from %s', async (license, source, expected) => {
    expect(await run(files(license, source), { params })).toEqual(expected);
  });

  it('Hugging Face card licenses are checked on the card line', async () => {
    const f = {
      'data/train.csv': TRAIN,
      'data/README.md': '---\npretty_name: x\nlicense:\n  - cc-by-nc-4.0\n---\n',
      'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN) }, ['source: https://huggingface.co/x', 'collected: 2026']),
    };
    expect(await run(f, { params })).toEqual(['license-not-allowed@data/README.md:3']);
  });
});

describe('dataset-provenance: changed mode', () => {
  const files: FileTree = {
    'data/train.csv': TRAIN,
    'data/test.csv': TEST,
    'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha(TRAIN), 'test.csv': sha(TEST) }),
    'datasets/x.csv': 'a\n',
  };
  it('a dataset changed without its record', async () => {
    expect(await run(files, { changed: ['data/train.csv'] })).toEqual(['record-not-updated@data/train.csv']);
  });
  it('a dataset changed with its record', async () => {
    expect(await run(files, { changed: ['data/train.csv', 'data/PROVENANCE.yml'] })).toEqual([]);
  });
  it('require-update-on-change: false', async () => {
    expect(await run(files, { changed: ['data/train.csv'], params: { 'require-update-on-change': false } })).toEqual([]);
  });
  it('only changed datasets (or those whose record changed) are checked', async () => {
    expect(await run(files, { changed: ['src/train.py'] })).toEqual([]);
    expect(await run(files, { changed: { added: ['datasets/x.csv'] } })).toEqual(['missing-record@datasets/x.csv']);
  });
  it('a record change re-verifies the datasets it covers', async () => {
    const tampered = { ...files, 'data/PROVENANCE.yml': provenanceYml({ 'train.csv': sha('x'), 'test.csv': sha(TEST) }) };
    expect(await run(tampered, { changed: ['data/PROVENANCE.yml'] })).toEqual(['digest-mismatch@data/PROVENANCE.yml:5']);
  });
  it('a deleted dataset still listed by an untouched record', async () => {
    const { 'data/test.csv': _gone, ...rest } = files;
    expect(await run(rest, { changed: { deleted: ['data/test.csv'] } })).toEqual(['record-not-updated@data/PROVENANCE.yml:6']);
  });
  it('entries for files inside a DVC-tracked directory are not stale', async () => {
    const f = {
      'data/images.dvc': `outs:\n- md5: ${md5('x')}.dir\n  path: images\n  meta: {source: 'https://x.org', license: MIT, collected: '2026'}\n`,
      'data/PROVENANCE.yml': provenanceYml({ 'images/001.png': sha('png') }),
    };
    expect(await run(f)).toEqual([]);
  });
  it('full mode reports entries for files that no longer exist', async () => {
    const { 'data/test.csv': _gone, 'datasets/x.csv': _x, ...rest } = files;
    expect(await run(rest)).toEqual(['stale-entry@data/PROVENANCE.yml:6']);
  });
});

describe('dataset-provenance: hostile records', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]', 'f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]'];
  it('an alias bomb in a dataset card front matter', async () => {
    const out = await run({ 'data/train.csv': TRAIN, 'data/README.md': ['---', 'license: mit', ...bomb, '---', ''].join('\n') });
    expect(out).toEqual(['invalid-record@data/README.md:7']); // the card's smaller node limit trips on the fifth level
  });
  it('an alias bomb in a PROVENANCE.yml', async () => {
    expect(await run({ 'data/train.csv': TRAIN, 'data/PROVENANCE.yml': bomb.join('\n') })).toEqual(['invalid-record@data/PROVENANCE.yml:6']);
  });
  it('deeply nested Croissant JSON', async () => {
    expect(await run({ 'data/train.csv': TRAIN, 'data/croissant.json': `${'['.repeat(200_000)}${']'.repeat(200_000)}` })).toEqual(['invalid-record@data/croissant.json']);
  });
  it('broken YAML and a record that is not a mapping', async () => {
    expect(await run({ 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': 'source: [unclosed\n' })).toEqual(['invalid-record@data/train.csv.provenance.yml:2']);
    expect(await run({ 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': '- a\n- b\n' })).toEqual(['invalid-record@data/train.csv.provenance.yml:1']);
  });
  it('unknown keys, bad dates and paths escaping the directory', async () => {
    const rec = ['licence: MIT', 'source: https://x.org', 'license: MIT', 'collected: last spring', 'files:', `  ../etc/passwd: {sha256: ${sha('x')}}`, `  train.csv: {sha256: ${sha(TRAIN)}}`, ''].join('\n');
    expect(await run({ 'data/train.csv': TRAIN, 'data/PROVENANCE.yml': rec })).toEqual([
      'invalid-record@data/PROVENANCE.yml:1',
      'invalid-record@data/PROVENANCE.yml:4',
      'invalid-record@data/PROVENANCE.yml:6',
      'missing-field@data/PROVENANCE.yml',
    ]);
  });
  it('a DVC out escaping the repository', async () => {
    expect(await run({ 'data/x.dvc': 'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: ../../etc/passwd\n' })).toEqual(['invalid-record@data/x.dvc:3']);
  });
  it('binary garbage as a record', async () => {
    const garbage = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131) % 256));
    const out = await run({ 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': garbage, 'data/croissant.json': garbage, 'data/README.md': Buffer.concat([Buffer.from('---\n'), garbage]) });
    expect(out.every((s) => s.startsWith('invalid-record@'))).toBe(true);
  });
  it('a record over the read budget', async () => {
    const out = await run({ 'data/train.csv': TRAIN, 'data/train.csv.provenance.yml': sidecar(sha(TRAIN), [`notes: "${'x'.repeat(5000)}"`]) }, { budget: { maxFileBytes: 1000 } });
    expect(out).toEqual(['budget-exceeded@data/train.csv.provenance.yml']);
  });
});

describe('dataset-provenance: arbitrary record bytes', () => {
  it('never escape the rule as an exception', async () => {
    const bytes = fc.sample(fc.uint8Array({ maxLength: 600 }), 12);
    const texts = fc.sample(fc.string({ maxLength: 300 }), 12);
    const allowed = new Set(['invalid-record', 'missing-field', 'missing-record', 'digest-mismatch', 'stale-entry', 'license-not-allowed', 'source-not-allowed']);
    for (let i = 0; i < 12; i++) {
      const b = Buffer.from(bytes[i]!);
      const t = texts[i]!;
      const findings = await runRuleOn(
        datasetProvenance,
        {
          'data/a/train.csv': TRAIN,
          'data/a/train.csv.provenance.yml': i % 2 ? b : t,
          'data/a/PROVENANCE.yml': i % 2 ? t : b,
          'data/a/croissant.json': i % 2 ? b : `{"distribution": ${t}}`,
          'data/a/README.md': Buffer.concat([Buffer.from('---\n'), i % 2 ? b : Buffer.from(t)]),
          'data/a/train.csv.dvc': i % 2 ? `outs:\n- ${t}` : b,
        },
        { params: { 'allowed-licenses': ['MIT'], 'allowed-sources': ['x.org'] } },
      );
      for (const f of findings) expect(allowed).toContain(f.code);
    }
  });
});

describe('dataset-provenance: changed mode selection', () => {
  it('a change to a README that is no dataset card does not re-check all data', async () => {
    const files = { 'README.md': '# project\n', 'data/x.csv': 'a\n' };
    expect(await run(files, { changed: ['README.md'] })).toEqual([]);
    expect(await run({ ...files, 'README.md': '---\npretty_name: d\n---\n' }, { changed: ['README.md'] })).toEqual(['missing-field@README.md', 'missing-field@README.md', 'missing-field@README.md', 'missing-field@README.md']);
  });
});
