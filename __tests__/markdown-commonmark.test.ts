import { describe, expect, it } from 'vitest';
import { modelCard } from '../src/checks/model-card.js';
import { threatModel } from '../src/checks/threat-model.js';
import { FrontMatterError, MARKDOWN_MAX_CHARS, MARKDOWN_MAX_NESTING, MarkdownError, parseMarkdown } from '../src/formats/markdown.js';
import { runRuleOn, summarise } from './helpers/repo.js';

const FM = '---\nlast-reviewed: 2026-10-01\n---\n';
const HEAD = `${FM}# Threat model\n## Assets\nThe classifier.\n## Threats\nPoisoned data (AML.T0020).\n`;
const tmFindings = async (body: string) => summarise(await runRuleOn(threatModel, { 'THREAT_MODEL.md': HEAD + body }));
const headings = (md: string) => parseMarkdown(md).headings.map((h) => `${h.depth}:${h.text}@${h.line}${h.endLine !== h.line ? `-${h.endLine}` : ''}`);

describe('threat-model sections are CommonMark headings', () => {
  // HEAD is 8 lines: a missing section is reported on the first body line, 4.
  const missing = ['missing-section@THREAT_MODEL.md:4'];
  it.each([
    ['inside an HTML comment', '<!--\n## Mitigations\n-->\n', missing],
    ['inside a one-line HTML comment', '<!-- ## Mitigations -->\n', missing],
    ['inside a <details> HTML block with no blank line', '<details>\n## Mitigations\n</details>\n', missing],
    ['inside a fenced code block', '```md\n## Mitigations\n```\n', missing],
    ['inside a tilde fence that a backtick line does not close', '~~~\n```\n## Mitigations\n~~~\n', missing],
    ['inside an unclosed fence (to the end of the file)', '```\n## Mitigations\n', missing],
    ['inside an indented code block', '\n    ## Mitigations\n', missing],
    ['quoted in a blockquote (not this document\'s section)', '> ## Mitigations\n> Provenance checks.\n', missing],
    ['nested in a list item', '- ## Mitigations\n', missing],
    ['without the space after #', '##Mitigations\n', missing],
    ['a setext heading', '\nMitigations\n-----------\nProvenance checks.\n', []],
    ['a setext heading of level 1', '\nMitigations\n===\n', []],
    // Right under a paragraph, the underline takes the paragraph's lines too: "Poisoned data (AML.T0020). Mitigations".
    ['a setext underline under a paragraph line', 'Mitigations\n-----------\n', missing],
    ['an ATX heading with closing #s', '## Mitigations ##\n', []],
    ['an ATX heading indented by three spaces', '   ## Mitigations\n', []],
    ['inline markup in the heading', '## *Mitigations* and [controls](#c)\n', []],
    ['an escaped heading marker is text', '\\## Mitigations\n', missing],
  ])('## Mitigations %s', async (_name, body, expected) => {
    expect(await tmFindings(body)).toEqual(expected);
  });

  it('<details> with blank lines around the heading: CommonMark reads the heading as Markdown, so it counts', async () => {
    expect(await tmFindings('<details>\n\n## Mitigations\n\n</details>\n')).toEqual([]);
  });
});

describe('parseMarkdown', () => {
  it('reads ATX and setext headings with their lines, closing #s and inline markup gone', () => {
    expect(headings('# One #\ntext\n\nTwo\n===\n\n## `Three` *3* [x](y) ![alt](z) ###\nFour\nlines\n---\n')).toEqual([
      '1:One@1',
      '1:Two@4-5',
      '2:Three 3 x alt@7',
      // A paragraph of two lines over an underline is one heading (CommonMark), not a heading on its last line.
      '2:Four lines@8-10',
    ]);
  });

  it('locates front matter keys and the body after it, with CRLF and a byte-order mark', () => {
    const doc = parseMarkdown('\uFEFF---\r\ntitle: x\r\nlast-reviewed: 2026-01-01\r\n---\r\n# H\r\n');
    expect(doc.frontMatterLines).toBe(4);
    expect(doc.frontMatterLine('last-reviewed')).toBe(3);
    expect(doc.frontMatter).toEqual({ title: 'x', 'last-reviewed': '2026-01-01' });
    expect(doc.headings.map((h) => h.line)).toEqual([5]);
  });

  it('accepts YAML\'s own "..." as the closing fence, and no front matter unless the first line opens it', () => {
    expect(parseMarkdown('---\na: 1\n...\n# H\n').frontMatter).toEqual({ a: 1 });
    const none = parseMarkdown('\n---\na: 1\n---\n');
    expect([none.frontMatter, none.frontMatterLines]).toEqual([null, 0]);
    // Unclosed: a thematic break and a paragraph, not front matter.
    expect(parseMarkdown('---\na: 1\n').frontMatter).toBeNull();
  });

  it('front matter still goes through the bounded YAML reader', () => {
    const bomb = `---\na: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `b${i}: &b${i} [${(i === 0 ? '*a' : `*b${i - 1}`) + ', '}${i === 0 ? '*a' : `*b${i - 1}`}]`).join('\n')}\n---\n`;
    expect(() => parseMarkdown(bomb)).toThrow(FrontMatterError);
    expect(() => parseMarkdown('---\n- a list\n---\n')).toThrow(/not a YAML mapping/);
  });

  it('refuses documents larger than it reads, and quote or list nesting deeper than it reads', () => {
    expect(() => parseMarkdown('x'.repeat(MARKDOWN_MAX_CHARS + 1))).toThrow(MarkdownError);
    expect(parseMarkdown(`${'> '.repeat(MARKDOWN_MAX_NESTING)}deep\n`).headings).toEqual([]);
    const deep = `# ok\n${'> '.repeat(MARKDOWN_MAX_NESTING + 1)}x\n`;
    expect(() => parseMarkdown(deep)).toThrow(expect.objectContaining({ name: 'MarkdownError', line: 2 }));
    expect(() => parseMarkdown(`a\r${'- '.repeat(MARKDOWN_MAX_NESTING + 1)}x`)).toThrow(expect.objectContaining({ line: 2 }));
    expect(() => parseMarkdown('>'.repeat(200_000))).toThrow(MarkdownError);
    expect(() => parseMarkdown(`${'1. '.repeat(MARKDOWN_MAX_NESTING + 1)}x`)).toThrow(MarkdownError);
  });

  it('thousands of unclosed brackets and emphasis delimiters, and a huge heading, parse in bounded time', () => {
    const started = performance.now();
    expect(parseMarkdown('['.repeat(100_000)).headings).toEqual([]);
    expect(parseMarkdown('*a_'.repeat(30_000)).headings).toEqual([]);
    expect(parseMarkdown(`# ${'[a'.repeat(50_000)}`).headings).toHaveLength(1);
    // Generous for a shared CI machine; the quadratic reader this replaces would take minutes.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('rules on Markdown mlgate will not read', () => {
  it('a threat model nested too deep is an unreadable finding on the file, at the line', async () => {
    const f = await runRuleOn(threatModel, { 'THREAT_MODEL.md': `${HEAD}## Mitigations\n${'>'.repeat(50_000)}\n` });
    expect(summarise(f)).toEqual(['unreadable@THREAT_MODEL.md:10']);
    expect(f[0]!.message).toMatch(/nests quotes or lists more than 32 deep/);
  });

  it('a model card over the size mlgate reads as Markdown is an unreadable finding on the card', async () => {
    const f = await runRuleOn(modelCard, { 'm/model.safetensors': 'w', 'm/README.md': `---\nlicense: mit\n---\n${'x'.repeat(MARKDOWN_MAX_CHARS)}\n` });
    expect(summarise(f)).toEqual(['unreadable@m/README.md']);
  });

  it('a model-card section inside a code fence does not count, a setext one does', async () => {
    const card = (body: string) => ({ 'm/model.safetensors': 'w', 'm/README.md': `---\nlicense: mit\nbase_model: x\n---\n## Intended use\nText.\n## Limitations\nSome.\n${body}` });
    expect(summarise(await runRuleOn(modelCard, card('```\n## Evaluation\nNumbers.\n```\n')))).toEqual(['missing-section@m/README.md:5']);
    expect(summarise(await runRuleOn(modelCard, card('\nEvaluation\n----------\nNumbers.\n')))).toEqual([]);
    // An empty setext section is reported on its heading line.
    expect(summarise(await runRuleOn(modelCard, card('\nEvaluation\n----------\n<!-- fill in -->\n')))).toEqual(['missing-section@m/README.md:10']);
  });
});
