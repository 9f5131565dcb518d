import { loadYaml, YamlError, type YamlLimits } from './yaml.js';

export interface Heading {
  depth: number;
  text: string;
  /** 1-based line in the file. */
  line: number;
}

export interface MarkdownDoc {
  /** Parsed front matter, or null when the file has none. */
  frontMatter: Record<string, unknown> | null;
  /** Lines the front matter occupies (including both `---`), 0 when absent. */
  frontMatterLines: number;
  /** Locates a front-matter key (1-based line in the file). */
  frontMatterLine(key: string): number | undefined;
  headings: Heading[];
  /** The text after the front matter. */
  body: string;
}

/** Front matter too large, an alias bomb, or not a mapping: reported on the file by the caller. */
export class FrontMatterError extends Error {
  override name = 'FrontMatterError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

const FM_LIMITS: Partial<YamlLimits> = { maxChars: 256 * 1024, maxNodes: 20_000, maxAliases: 100, maxDepth: 32 };

/**
 * Splits Markdown into YAML front matter (as Hugging Face cards and the threat
 * model use it) and ATX/setext headings, ignoring fenced code blocks.
 */
export function parseMarkdown(text: string): MarkdownDoc {
  const src = text.replace(/^\uFEFF/, '');
  const lines = src.split(/\r?\n/);
  let frontMatter: Record<string, unknown> | null = null;
  let fmLines = 0;
  let locate: ((key: string) => number | undefined) | undefined;
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
    if (end > 0) {
      const yamlText = lines.slice(1, end).join('\n');
      try {
        const loaded = loadYaml(yamlText, FM_LIMITS);
        if (loaded.value !== null && (typeof loaded.value !== 'object' || Array.isArray(loaded.value)))
          throw new FrontMatterError('front matter is not a YAML mapping', 2);
        frontMatter = (loaded.value as Record<string, unknown> | null) ?? {};
        locate = (key) => loaded.locate([key], { key: true }).line + 1;
      } catch (e) {
        if (e instanceof FrontMatterError) throw e;
        const line = e instanceof YamlError && e.line ? e.line + 1 : 1;
        throw new FrontMatterError(`front matter: ${e instanceof Error ? e.message : String(e)}`, line);
      }
      fmLines = end + 1;
    }
  }
  const headings: Heading[] = [];
  let fence: string | null = null;
  for (let i = fmLines; i < lines.length; i++) {
    const line = lines[i]!;
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1]![0]!;
      else if (f[1]![0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const atx = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (atx) {
      headings.push({ depth: atx[1]!.length, text: atx[2]!.trim(), line: i + 1 });
      continue;
    }
    const next = lines[i + 1];
    if (next !== undefined && line.trim() !== '' && /^ {0,3}(=+|-+)\s*$/.test(next) && !/^\s*[-*+]\s/.test(line)) {
      headings.push({ depth: next.trim().startsWith('=') ? 1 : 2, text: line.trim(), line: i + 1 });
    }
  }
  return {
    frontMatter,
    frontMatterLines: fmLines,
    frontMatterLine: (key) => (frontMatter && key in frontMatter ? locate?.(key) : undefined),
    headings,
    body: lines.slice(fmLines).join('\n'),
  };
}
