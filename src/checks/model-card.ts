import { FrontMatterError, MarkdownError, parseMarkdown, type MarkdownDoc } from '../formats/markdown.js';
import { isPlaceholder } from '../formats/provenance.js';
import { discoverModelRoots, modelName, modelRootDependents, WEIGHT_FILE_GLOBS, type ModelRoot } from '../inventory/model-roots.js';
import { matchesAny } from '../inventory/inventory.js';
import { FileProblem } from '../core/errors.js';
import type { Rule, RuleContext } from './rule.js';

export interface ModelCardParams {
  models?: string[];
  'require-fields'?: string[];
  'require-sections'?: string[];
}

export const DEFAULT_REQUIRE_FIELDS = ['license', 'base_model|datasets'];
export const DEFAULT_REQUIRE_SECTIONS = ['intended use|direct use', 'limitations', 'evaluation'];
const CARD_NAMES = ['model_card.md', 'readme.md'];
const CARD_MAX_BYTES = 8 * 1024 * 1024;
/** Text Hugging Face's card template leaves in sections nobody filled in. */
const TEMPLATE_FILLER = /\[more information needed\]|<!--[\s\S]*?-->/gi;

const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * Card candidates, preferred first: in a directory root its MODEL_CARD.md,
 * then README.md; beside a single-file root `<stem>.md` or `<file>.md`, then
 * the directory's MODEL_CARD.md and README.md.
 */
export function findCard(root: ModelRoot, exists: (p: string) => string | undefined): string | undefined {
  const dir = root.kind === 'dir' ? (root.path === '.' ? '' : root.path) : dirOf(root.path);
  const inDir = (name: string): string => (dir ? `${dir}/${name}` : name);
  const names: string[] = [];
  if (root.kind === 'file') {
    const file = baseName(root.path);
    const stem = file.includes('.') ? file.slice(0, file.lastIndexOf('.')) : file;
    names.push(`${stem}.md`.toLowerCase(), `${file}.md`.toLowerCase());
  }
  names.push(...CARD_NAMES);
  for (const n of names) {
    const hit = exists(inDir(n));
    if (hit) return hit;
  }
  return undefined;
}

/** Lower-case words with a plural `s` dropped, so "Intended uses & limitations" contains "intended use" and "limitation". */
export function headingWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/&/g, ' and ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

const containsPhrase = (words: string[], phrase: string[]): boolean =>
  phrase.length > 0 && words.some((_, i) => phrase.every((p, j) => words[i + j] === p));

/** The heading a required section (alternatives separated by `|`) is satisfied by, if any. */
export function findSection(doc: MarkdownDoc, required: string): MarkdownDoc['headings'][number] | undefined {
  const alternatives = required.split('|').map((a) => headingWords(a));
  return doc.headings.find((h) => {
    const words = headingWords(h.text);
    return alternatives.some((alt) => containsPhrase(words, alt));
  });
}

/** Whether a section has content besides headings and template filler. */
function sectionIsEmpty(lines: string[], doc: MarkdownDoc, heading: MarkdownDoc['headings'][number]): boolean {
  const next = doc.headings.find((h) => h.line > heading.line && h.depth <= heading.depth);
  const headingLines = new Set(doc.headings.flatMap((h) => Array.from({ length: h.endLine - h.line + 1 }, (_, i) => h.line + i)));
  const body = lines
    .slice(heading.endLine, (next?.line ?? lines.length + 1) - 1)
    .filter((_, i) => !headingLines.has(heading.endLine + 1 + i))
    .join('\n')
    .replace(TEMPLATE_FILLER, '')
    // A thematic break is no content either.
    .replace(/^\s*(=+|-+)\s*$/gm, '');
  return body.trim() === '';
}

const present = (v: unknown): boolean =>
  v !== undefined && v !== null && !(typeof v === 'string' && isPlaceholder(v)) && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/** A file to hang a missing-card finding on: the first weight file, so exceptions written for the model's paths apply. */
function representative(root: ModelRoot): string {
  return root.files.find((f) => matchesAny(baseName(f), WEIGHT_FILE_GLOBS)) ?? root.files[0] ?? root.path;
}

/** In changed mode a model is re-checked when its files or a card candidate changed. */
function touchedRoot(root: ModelRoot, touched: string[]): boolean {
  if (root.kind === 'dir') return root.path === '.' ? touched.length > 0 : touched.some((p) => p.startsWith(`${root.path}/`));
  const dir = dirOf(root.path);
  return touched.some((p) => p === root.path || (dirOf(p) === dir && /\.md$/i.test(p)));
}

async function checkCard(ctx: RuleContext<ModelCardParams>, root: ModelRoot, card: string, fields: string[], sections: string[]): Promise<void> {
  const text = await ctx.inventory.readText(card, Math.min(CARD_MAX_BYTES, ctx.maxFileBytes));
  let doc: MarkdownDoc;
  try {
    doc = parseMarkdown(text);
  } catch (e) {
    if (e instanceof FrontMatterError) throw new FileProblem(card, `${card}:${e.line ?? 1}: ${e.message}; fix the YAML between the \`---\` lines`, 'invalid-front-matter', e.line);
    if (e instanceof MarkdownError) throw new FileProblem(card, `${card} was not read: ${e.message}; keep the model card a plain Markdown document`, 'unreadable', e.line);
    throw e;
  }
  const label = root.path === '.' ? 'the repository root model' : root.path;
  const missingFields = fields.filter((f) => !f.split('|').some((alt) => present(doc.frontMatter?.[alt.trim()])));
  const say = (f: string): string => f.split('|').map((a) => `\`${a.trim()}\``).join(' or ');
  if (!doc.frontMatter && missingFields.length > 0) {
    ctx.report({
      code: 'missing-field',
      path: card,
      line: 1,
      message: `${card}, the model card of ${label}, has no YAML front matter: start it with a \`---\` block holding ${missingFields.map(say).join(', ')} (Hugging Face card metadata)`,
    });
  } else {
    for (const f of missingFields) {
      ctx.report({
        code: 'missing-field',
        path: card,
        line: doc.frontMatterLines || 1,
        message: `the front matter of ${card} (model card of ${label}) has no ${say(f)}: add it before the closing \`---\``,
      });
    }
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const s of sections) {
    const heading = findSection(doc, s);
    const name = s.split('|')[0]!.trim();
    if (!heading) {
      // On the first line of the body, where the section would go.
      ctx.report({ code: 'missing-section', path: card, line: doc.frontMatterLines + 1, message: `${card} (model card of ${label}) has no "${name}" section: add a \`## ${capitalise(name)}\` heading with its content` });
    } else if (sectionIsEmpty(lines, doc, heading)) {
      ctx.report({ code: 'missing-section', path: card, line: heading.line, message: `the "${heading.text}" section of ${card} is empty (or template filler only): describe the model's ${name}` });
    }
  }
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

async function run(ctx: RuleContext<ModelCardParams>): Promise<void> {
  const params = ctx.params ?? {};
  const fields = params['require-fields'] ?? DEFAULT_REQUIRE_FIELDS;
  const sections = params['require-sections'] ?? DEFAULT_REQUIRE_SECTIONS;
  const byLower = new Map(ctx.inventory.files.map((f) => [f.path.toLowerCase(), f.path]));
  const exists = (p: string): string | undefined => byLower.get(p.toLowerCase());
  const touched = ctx.changed?.all() ?? [];
  for (const root of discoverModelRoots(ctx.inventory, params.models)) {
    ctx.signal.throwIfAborted();
    if (ctx.changed && !touchedRoot(root, touched)) continue;
    const card = findCard(root, exists);
    if (!card) {
      const where = root.kind === 'dir' ? `${root.path === '.' ? '' : `${root.path}/`}README.md` : `${root.path.replace(/\.[^./]+$/, '')}.md`;
      ctx.report({
        code: 'missing-card',
        path: representative(root),
        message: `${modelName(root.path)} has no model card: add ${where} (or MODEL_CARD.md) with front matter (${fields.map((f) => f.split('|').join(' or ')).join(', ')}) and sections ${sections.map((s) => capitalise(s.split('|')[0]!)).join(', ')}`,
      });
      continue;
    }
    await ctx.guard(card, () => checkCard(ctx, root, card, fields, sections));
  }
}

const strings = (description: string) => ({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 64, description });
const globs = (description: string) => ({ type: 'array', items: { type: 'string', format: 'glob' }, maxItems: 64, description });

export const modelCard: Rule<ModelCardParams> = {
  id: 'model-card',
  title: 'Every model has a model card',
  summary: 'Each model root has a model card whose front matter names its license and base model or datasets, with intended use, limitations and evaluation sections.',
  defaultLevel: 'warning',
  references: [
    { id: 'HF-model-cards', url: 'https://huggingface.co/docs/hub/model-cards' },
    { id: 'CycloneDX-ML-BOM', url: 'https://cyclonedx.org/capabilities/mlbom/' },
  ],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      models: globs('Globs of model roots (a matched directory or single file is one model). Default: directories holding weight files, as in model-signing.'),
      'require-fields': { ...strings(`Front-matter keys every card needs; \`a|b\` accepts either. Default: ${DEFAULT_REQUIRE_FIELDS.join(', ')}.`), default: DEFAULT_REQUIRE_FIELDS },
      'require-sections': {
        ...strings(`Headings every card needs (case-insensitive, word match, plural-tolerant); \`a|b\` accepts either. Default: ${DEFAULT_REQUIRE_SECTIONS.join(', ')}.`),
        default: DEFAULT_REQUIRE_SECTIONS,
      },
    },
  },
  tighten: { models: 'superset', 'require-fields': 'superset', 'require-sections': 'superset' },
  examples: {
    pass: {
      description: 'A model directory with a complete Hugging Face style card',
      files: {
        'models/clf/model.safetensors': 'weights',
        'models/clf/README.md': [
          '---',
          'license: apache-2.0',
          'base_model: google-bert/bert-base-uncased',
          '---',
          '# Review classifier',
          '## Intended uses & limitations',
          'Sorting support tickets in English; not for medical or legal text.',
          '## Evaluation',
          'F1 0.91 on the held-out split.',
          '',
        ].join('\n'),
      },
      expect: [],
    },
    fail: {
      description: 'A model without a card, and a card without front matter or an evaluation section',
      files: {
        'models/a/model.safetensors': 'weights',
        'models/b/model.onnx': 'weights',
        'models/b/README.md': '# Model B\n## Intended use\nDemo only.\n## Limitations\nToy data.\n',
      },
      expect: ['missing-card', 'missing-field', 'missing-section'],
    },
  },
  invalidates: (path, index, params) => ({ dependents: modelRootDependents(path, index.modelRoots(params?.models), index.filesIn) }),
  run,
};
