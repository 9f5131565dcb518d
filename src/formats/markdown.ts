import type { Heading as MdastHeading, Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { frontmatterFromMarkdown } from 'mdast-util-frontmatter';
import { frontmatter, type Options as FrontMatterOptions } from 'micromark-extension-frontmatter';
import { loadYaml, YamlError, type YamlLimits } from './yaml.js';

export interface Heading {
  depth: number;
  /** The heading as rendered text: inline markup and ATX closing `#`s gone. */
  text: string;
  /** 1-based line in the file where the heading starts (a setext heading's text line). */
  line: number;
  /** 1-based last line: a setext heading's underline. */
  endLine: number;
}

export interface MarkdownDoc {
  /** Parsed front matter, or null when the file has none. */
  frontMatter: Record<string, unknown> | null;
  /** Lines the front matter occupies (including both `---`), 0 when absent. */
  frontMatterLines: number;
  /** Locates a front-matter key (1-based line in the file). */
  frontMatterLine(key: string): number | undefined;
  /** The document's own headings, in order (see parseMarkdown). */
  headings: Heading[];
  /** The text after the front matter. */
  body: string;
}

/** Markdown mlgate will not read: front matter that is broken or too large, a document too large or too deeply nested. */
export class MarkdownError extends Error {
  override name = 'MarkdownError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** Front matter too large, an alias bomb, or not a mapping: reported on the file by the caller. */
export class FrontMatterError extends MarkdownError {
  override name = 'FrontMatterError';
}

/**
 * CommonMark parsing is not linear on every input (deeply nested quotes and
 * lists are quadratic in micromark), and a rule's time budget cannot interrupt
 * a synchronous parse: the size and nesting a document may have are capped
 * instead. Real threat models and model cards are a few dozen KiB.
 */
export const MARKDOWN_MAX_CHARS = 512 * 1024;
export const MARKDOWN_MAX_NESTING = 32;
/** Heading source read with full inline syntax (links, emphasis, code); longer headings keep their literal text. */
const HEADING_INLINE_MAX_CHARS = 4096;

const FM_LIMITS: Partial<YamlLimits> = { maxChars: 256 * 1024, maxNodes: 20_000, maxAliases: 100, maxDepth: 32 };

/** `---` … `---` as Hugging Face cards and Jekyll write it, and `---` … `...`, YAML's own document end. */
const MATTERS: FrontMatterOptions = ['yaml', { type: 'yaml', fence: { open: '---', close: '...' } }];

function parseFrontMatter(value: string): { data: Record<string, unknown>; locate: (key: string) => number } {
  try {
    const loaded = loadYaml(value, FM_LIMITS);
    if (loaded.value !== null && (typeof loaded.value !== 'object' || Array.isArray(loaded.value))) throw new FrontMatterError('front matter is not a YAML mapping', 2);
    // The YAML starts on the line after the opening `---`.
    return { data: (loaded.value as Record<string, unknown> | null) ?? {}, locate: (key) => loaded.locate([key], { key: true }).line + 1 };
  } catch (e) {
    if (e instanceof FrontMatterError) throw e;
    const line = e instanceof YamlError && e.line ? e.line + 1 : 1;
    throw new FrontMatterError(`front matter: ${e instanceof Error ? e.message : String(e)}`, line);
  }
}

/** Text of a heading's inline content; iterative, since emphasis can nest as deep as a line is long. */
function plainText(node: Nodes): string {
  let out = '';
  const stack: Nodes[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.type === 'text' || n.type === 'inlineCode') out += n.value;
    else if (n.type === 'image') out += n.alt ?? '';
    else if (n.type === 'break') out += ' ';
    else if ('children' in n) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as Nodes);
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** The deepest run of quote and list markers opening one line: what makes micromark's container parsing quadratic. */
function checkNesting(src: string): void {
  const marker = /^ {0,3}(?:>[ \t]?|(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$))/;
  const window = 4 * (MARKDOWN_MAX_NESTING + 1) + 16;
  let line = 0;
  // CommonMark ends lines at CR too.
  for (const { 0: text } of src.matchAll(/^.*$/gm)) {
    line++;
    let rest = text.slice(0, window);
    for (let depth = 1, m = marker.exec(rest); m && m[0] !== ''; depth++, m = marker.exec(rest)) {
      if (depth > MARKDOWN_MAX_NESTING) throw new MarkdownError(`line ${line} nests quotes or lists more than ${MARKDOWN_MAX_NESTING} deep, more than mlgate reads`, line);
      rest = rest.slice(m[0].length);
    }
  }
}

// Inline syntax is read only where it is needed, in headings: it is where micromark's
// worst cases live (thousands of unclosed brackets), and nothing else here uses it.
// Link reference definitions only serve links, so they go too.
const BLOCKS_ONLY = { disable: { null: ['attention', 'autolink', 'codeText', 'htmlText', 'labelStartImage', 'labelStartLink', 'labelEnd', 'hardBreakEscape', 'definition'] } };

const INLINE_SYNTAX = /[[\]*_`<!]/;

/**
 * Headings' text as it renders: their sources alone, read again with inline
 * syntax in one pass (each stands alone after a blank line). A heading too
 * long for that, or without inline syntax, keeps the text read so far.
 */
function headingTexts(src: string, nodes: MdastHeading[]): string[] {
  const texts = nodes.map((n) => plainText(n));
  const again = nodes
    .map((n, i) => ({ i, source: src.slice(n.position!.start.offset, n.position!.end.offset) }))
    .filter(({ source }) => source.length <= HEADING_INLINE_MAX_CHARS && INLINE_SYNTAX.test(source));
  if (again.length === 0) return texts;
  const reread = fromMarkdown(again.map((a) => a.source).join('\n\n')).children;
  // Were a source to read differently alone, keep every heading's text as read in place.
  if (reread.length !== again.length || reread.some((n) => n.type !== 'heading')) return texts;
  again.forEach((a, k) => (texts[a.i] = plainText(reread[k]!)));
  return texts;
}

/**
 * Reads Markdown as CommonMark does, with YAML front matter (as Hugging Face
 * cards and the threat model use it). Headings are the document's own: ATX
 * and setext headings at the top level. Text that only looks like a heading —
 * inside an HTML comment or block, a fenced or indented code block — is not
 * one, and neither is a heading quoted in a blockquote or nested in a list
 * item: that is someone else's structure, shown as an example, not a section
 * of this document. Throws MarkdownError (FrontMatterError for the front
 * matter) for what it will not read.
 */
export function parseMarkdown(text: string): MarkdownDoc {
  const src = text.replace(/^\uFEFF/, '');
  if (src.length > MARKDOWN_MAX_CHARS) throw new MarkdownError(`the document is ${src.length} characters, more than the ${MARKDOWN_MAX_CHARS} mlgate reads as Markdown`);
  checkNesting(src);
  const tree: Root = fromMarkdown(src, { extensions: [frontmatter(MATTERS), BLOCKS_ONLY], mdastExtensions: [frontmatterFromMarkdown(MATTERS)] });
  let frontMatter: Record<string, unknown> | null = null;
  let fmLines = 0;
  let locate: ((key: string) => number) | undefined;
  const nodes: MdastHeading[] = [];
  for (const node of tree.children) {
    if (node.type === 'yaml' && node.position) {
      ({ data: frontMatter, locate } = parseFrontMatter(node.value));
      fmLines = node.position.end.line;
    } else if (node.type === 'heading' && node.position?.start.offset !== undefined && node.position.end.offset !== undefined) {
      nodes.push(node);
    }
  }
  const texts = headingTexts(src, nodes);
  const headings = nodes.map((n, i): Heading => ({ depth: n.depth, text: texts[i]!, line: n.position!.start.line, endLine: n.position!.end.line }));
  return {
    frontMatter,
    frontMatterLines: fmLines,
    frontMatterLine: (key) => (frontMatter && key in frontMatter ? locate?.(key) : undefined),
    headings,
    body: src.split(/\r?\n/).slice(fmLines).join('\n'),
  };
}
