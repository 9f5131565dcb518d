import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headingWords, modelCard } from '../src/checks/model-card.js';
import { parseMarkdown } from '../src/formats/markdown.js';
import { findSection } from '../src/checks/model-card.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const FULL = ['---', 'license: apache-2.0', 'datasets:', '  - acme/reviews', '---', '# Clf', '## Intended use', 'Tickets.', '## Limitations', 'English only.', '## Evaluation', 'F1 0.91', ''].join('\n');
const W = 'weights';

describe('model-card', () => {
  const cases: { name: string; files: Record<string, string>; params?: Record<string, unknown>; expect: string[] }[] = [
    { name: 'complete card with datasets instead of base_model', files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL }, expect: [] },
    {
      name: 'Hugging Face template headings',
      files: {
        'models/clf/model.safetensors': W,
        'models/clf/README.md': [
          '---',
          'license: mit',
          'base_model: google-bert/bert-base-uncased',
          '---',
          '## Uses',
          '### Direct Use',
          'Sorting tickets.',
          '## Bias, Risks, and Limitations',
          'English only.',
          '## Evaluation',
          '### Results',
          'F1 0.91',
        ].join('\n'),
      },
      expect: [],
    },
    { name: 'no card at all', files: { 'models/clf/model.safetensors': W, 'models/clf/config.json': '{}' }, expect: ['missing-card@models/clf/model.safetensors'] },
    { name: 'MODEL_CARD.md is a card too', files: { 'models/clf/model.safetensors': W, 'models/clf/MODEL_CARD.md': FULL }, expect: [] },
    { name: 'card without front matter', files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.split('---\n')[2]! }, expect: ['missing-field@models/clf/README.md:1'] },
    {
      name: 'front matter without license nor base model / datasets',
      files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('license: apache-2.0\n', '').replace('datasets:\n  - acme/reviews\n', 'tags: [x]\n') },
      expect: ['missing-field@models/clf/README.md:3', 'missing-field@models/clf/README.md:3'],
    },
    { name: 'a TODO license', files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('license: apache-2.0', 'license: TODO') }, expect: ['missing-field@models/clf/README.md:5'] },
    { name: 'empty license value', files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('license: apache-2.0', 'license: ""') }, expect: ['missing-field@models/clf/README.md:5'] },
    {
      name: 'missing limitations section',
      files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('## Limitations\nEnglish only.\n', '') },
      expect: ['missing-section@models/clf/README.md:6'],
    },
    {
      name: 'evaluation section left as template filler',
      files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('F1 0.91', '<!-- fill in -->\n[More Information Needed]') },
      expect: ['missing-section@models/clf/README.md:11'],
    },
    {
      name: 'a heading inside a code fence does not count',
      files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL.replace('## Evaluation\nF1 0.91', '```\n## Evaluation\n```') },
      expect: ['missing-section@models/clf/README.md:6'],
    },
    {
      name: 'alias bomb in front matter',
      files: {
        'models/clf/model.safetensors': W,
        'models/clf/README.md': ['---', 'a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]', '---', '# x'].join('\n'),
      },
      expect: ['invalid-front-matter@models/clf/README.md:6'],
    },
    { name: 'front matter that is not a mapping', files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': '---\n- a\n- b\n---\n# x\n' }, expect: ['invalid-front-matter@models/clf/README.md:2'] },
    { name: 'single-file root with a card beside it', files: { 'models/clf.onnx': W, 'models/clf.md': FULL }, params: { models: ['models/*.onnx'] }, expect: [] },
    { name: 'single-file root without a card', files: { 'models/clf.onnx': W }, params: { models: ['models/*.onnx'] }, expect: ['missing-card@models/clf.onnx'] },
    {
      name: 'custom fields and sections',
      files: { 'models/clf/model.safetensors': W, 'models/clf/README.md': FULL },
      params: { 'require-fields': ['license', 'model-index'], 'require-sections': ['Training data|Training details'] },
      expect: ['missing-field@models/clf/README.md:5', 'missing-section@models/clf/README.md:6'],
    },
  ];
  it.each(cases)('$name', async (c) => {
    expect(summarise(await runRuleOn(modelCard, c.files, { params: c.params }))).toEqual(c.expect.sort());
  });

  it('in changed mode checks only models whose files or card changed', async () => {
    const files = { 'models/a/model.safetensors': W, 'models/b/model.safetensors': W, 'models/b/README.md': FULL };
    expect(summarise(await runRuleOn(modelCard, files, { changed: ['models/b/README.md'] }))).toEqual([]);
    expect(summarise(await runRuleOn(modelCard, files, { changed: ['models/a/model.safetensors'] }))).toEqual(['missing-card@models/a/model.safetensors']);
  });

  it.each([
    ['Intended uses & limitations', 'intended use', true],
    ['Intended uses & limitations', 'limitations', true],
    ['INTENDED USE', 'intended use|direct use', true],
    ['How to use', 'intended use|direct use', false],
    ['Evaluation results', 'evaluation', true],
    ['Unintended use', 'intended use', false],
  ])('heading %s satisfies %s: %s', (heading, required, ok) => {
    const doc = parseMarkdown(`# ${heading}\ntext\n`);
    expect(findSection(doc, required) !== undefined).toBe(ok);
  });

  it('never throws on arbitrary card text', async () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        headingWords(s);
      }),
    );
    const samples = fc.sample(fc.string({ maxLength: 200 }).map((s) => `---\n${s}\n---\n${s}`), 15);
    for (const text of samples) {
      const findings = await runRuleOn(modelCard, { 'm/model.safetensors': W, 'm/README.md': text });
      for (const f of findings) expect(['missing-field', 'missing-section', 'invalid-front-matter']).toContain(f.code);
    }
  });
});
