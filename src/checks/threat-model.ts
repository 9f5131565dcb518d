import type { Rule } from './rule.js';
import { FileProblem } from '../core/errors.js';
import { FrontMatterError, MarkdownError, parseMarkdown } from '../formats/markdown.js';
import { matchesAny } from '../inventory/inventory.js';
import atlasTable from './threat-model/atlas.json' with { type: 'json' };

export interface ThreatModelParams {
  paths?: string[];
  sections?: string[];
  'require-atlas'?: boolean;
  'max-age-days'?: number;
  'review-when-changed'?: string[];
}

export const DEFAULTS = {
  paths: ['THREAT_MODEL.md', 'docs/threat-model*.md', 'docs/security/threat-model*.md'],
  sections: ['Assets', 'Threats', 'Mitigations'],
  requireAtlas: true,
  maxAgeDays: 180,
  reviewWhenChanged: ['models/**', 'serving/**', 'data/**'],
};

const TECHNIQUES: Record<string, string> = atlasTable.techniques;
const MITIGATIONS: Record<string, string> = atlasTable.mitigations;
const ATLAS_ID = /\bAML\.(T\d{4}(?:\.\d{3})?|M\d{4})\b/g;
const DAY_MS = 86_400_000;

/** "2. Threats & mitigations:" → "threats & mitigations" */
const normaliseHeading = (text: string): string =>
  text.toLowerCase().replace(/^[\d.)\s]+/, '').replace(/[:.\s]+$/, '').trim();

function hasSection(headings: string[], section: string): boolean {
  const want = section.toLowerCase().trim();
  return headings.some((h) => h === want || h.startsWith(`${want} `) || h.startsWith(`${want}:`));
}

function parseDay(value: unknown): Date | undefined {
  const s = value instanceof Date ? value.toISOString().slice(0, 10) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const d = new Date(`${s}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s ? undefined : d;
}

export const threatModel: Rule<ThreatModelParams> = {
  id: 'threat-model',
  title: 'Threat model',
  summary: 'A current ML threat model exists, has the required sections, cites valid MITRE ATLAS ids, and is revisited when risky paths change.',
  defaultLevel: 'warning',
  references: [
    { id: 'MS-AIML-TM', url: 'https://learn.microsoft.com/en-us/security/engineering/threat-modeling-aiml' },
    { id: 'NIST-AI-100-2', url: 'https://csrc.nist.gov/pubs/ai/100/2/e2025/final' },
  ],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      paths: { type: 'array', items: { type: 'string', format: 'glob' }, minItems: 1, default: DEFAULTS.paths, description: 'Where the threat model may live (globs).' },
      sections: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, default: DEFAULTS.sections, description: 'Markdown headings that must exist (case-insensitive).' },
      'require-atlas': { type: 'boolean', default: DEFAULTS.requireAtlas, description: 'Require at least one valid MITRE ATLAS technique id.' },
      'max-age-days': { type: 'integer', minimum: 1, maximum: 3650, default: DEFAULTS.maxAgeDays, description: 'Maximum age of the front matter `last-reviewed: YYYY-MM-DD`.' },
      'review-when-changed': { type: 'array', items: { type: 'string', format: 'glob' }, default: DEFAULTS.reviewWhenChanged, description: 'Paths whose change requires touching the threat model in the same PR.' },
    },
  },
  tighten: { paths: 'fixed', sections: 'superset', 'require-atlas': 'true-stays', 'max-age-days': 'max', 'review-when-changed': 'superset' },
  examples: {
    pass: {
      description: 'a reviewed threat model with every section and an ATLAS id',
      files: {
        'THREAT_MODEL.md': '---\nlast-reviewed: 2026-11-01\n---\n# Threat model\n## Assets\nThe classifier.\n## Threats\nPoisoned training data (AML.T0020).\n## Mitigations\nProvenance checks.\n',
      },
      expect: [],
    },
    fail: {
      description: 'no threat model at all',
      files: { 'README.md': '# A model\n' },
      expect: ['missing'],
    },
  },
  budget: { maxFileBytes: 2 * 1024 * 1024 },

  async run(ctx) {
    const p = ctx.params;
    const paths = p.paths ?? DEFAULTS.paths;
    const sections = p.sections ?? DEFAULTS.sections;
    const requireAtlas = p['require-atlas'] ?? DEFAULTS.requireAtlas;
    const maxAge = p['max-age-days'] ?? DEFAULTS.maxAgeDays;
    const risky = p['review-when-changed'] ?? DEFAULTS.reviewWhenChanged;
    const docs = ctx.inventory.match(paths);
    // In changed mode the threat model is this change's business only when the change touches what it covers
    // or the document itself; otherwise every unrelated PR would repeat the same repository-wide findings.
    const riskyTouched = !ctx.changed || (risky.length > 0 && ctx.changed.touchesAny(risky));
    const concerns = (path?: string): boolean => riskyTouched || (path === undefined ? ctx.changed!.touchesAny(paths) : ctx.changed!.touches(path));

    if (docs.length === 0) {
      if (!concerns()) return;
      ctx.report({
        code: 'missing',
        message: `no threat model found (looked for ${paths.join(', ')}): add THREAT_MODEL.md with ${sections.join(', ')} sections, MITRE ATLAS technique ids and \`last-reviewed: YYYY-MM-DD\` front matter`,
      });
      return;
    }

    for (const doc of docs) {
      if (!concerns(doc.path)) continue;
      await ctx.guard(doc.path, async () => {
        const text = await ctx.inventory.readText(doc.path, ctx.maxFileBytes);
        let md;
        try {
          md = parseMarkdown(text);
        } catch (e) {
          if (e instanceof FrontMatterError) throw new FileProblem(doc.path, `${doc.path}: ${e.message}`, 'invalid-front-matter', e.line);
          if (e instanceof MarkdownError) throw new FileProblem(doc.path, `${doc.path} was not read: ${e.message}; keep the threat model a plain Markdown document`, 'unreadable', e.line);
          throw e;
        }
        const firstBodyLine = md.frontMatterLines + 1;
        const headings = md.headings.map((h) => normaliseHeading(h.text));
        for (const section of sections) {
          if (!hasSection(headings, section)) {
            ctx.report({ code: 'missing-section', path: doc.path, line: firstBodyLine, message: `the threat model has no "${section}" section: add a "## ${section}" heading` });
          }
        }

        let validTechniques = 0;
        const lines = text.split('\n');
        for (let i = md.frontMatterLines; i < lines.length; i++) {
          for (const m of lines[i]!.matchAll(ATLAS_ID)) {
            const id = m[0];
            const known = id.startsWith('AML.T') ? TECHNIQUES[id] : MITIGATIONS[id];
            if (known === undefined) {
              ctx.report({ code: 'unknown-atlas-id', path: doc.path, line: i + 1, column: (m.index ?? 0) + 1, message: `${id} is not a MITRE ATLAS ${atlasTable.version} technique or mitigation id: check it at https://atlas.mitre.org` });
            } else if (id.startsWith('AML.T')) {
              validTechniques++;
            }
          }
        }
        if (requireAtlas && validTechniques === 0) {
          ctx.report({ code: 'missing-atlas', path: doc.path, line: firstBodyLine, message: 'the threat model cites no MITRE ATLAS technique id: name the techniques it addresses, e.g. AML.T0020 (Poison Training Data) or AML.T0010.003 (supply chain: model)' });
        }

        const reviewedLine = md.frontMatterLine('last-reviewed');
        const rawReviewed = md.frontMatter?.['last-reviewed'];
        if (rawReviewed === undefined) {
          ctx.report({ code: 'missing-review-date', path: doc.path, line: 1, message: 'the threat model has no `last-reviewed: YYYY-MM-DD` front matter: add it when the model is reviewed' });
        } else {
          const reviewed = parseDay(rawReviewed);
          if (!reviewed || reviewed.getTime() > ctx.now.getTime() + DAY_MS) {
            ctx.report({ code: 'invalid-review-date', path: doc.path, line: reviewedLine, message: `last-reviewed ${JSON.stringify(rawReviewed)} is not a past date YYYY-MM-DD` });
          } else {
            const age = Math.floor((ctx.now.getTime() - reviewed.getTime()) / DAY_MS);
            if (age > maxAge) {
              ctx.report({ code: 'stale-review', path: doc.path, line: reviewedLine, message: `the threat model was last reviewed ${age} days ago (${reviewed.toISOString().slice(0, 10)}), more than max-age-days ${maxAge}: review it and update last-reviewed` });
            }
          }
        }
      });
    }

    if (ctx.changed && risky.length > 0 && ctx.changed.touchesAny(risky) && !docs.some((d) => ctx.changed!.touches(d.path))) {
      const examples = ctx.changed.all().filter((f) => matchesAny(f, risky));
      const first = docs[0]!;
      ctx.report({
        code: 'not-updated',
        path: first.path,
        line: 1,
        message: `this change touches paths the threat model covers (${examples.slice(0, 3).join(', ') || risky.join(', ')}${examples.length > 3 ? ', …' : ''}) but not ${first.path}: review the threat model and update it (at least last-reviewed) in the same PR`,
      });
    }
  },
};
