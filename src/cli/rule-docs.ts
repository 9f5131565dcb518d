import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES } from '../checks/registry.js';
import { ConfigurationError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { helpUrl } from '../core/version.js';

/** Finding families the engine reports itself, documented like rules. */
export const ENGINE_PAGES = ['policy', 'inventory'] as const;

/** One documented finding code: the table it is listed in and its row. */
export interface CodeDoc {
  /** Full code, `rule/sub-code`. */
  code: string;
  page: string;
  /** The table's header and separator lines. */
  header: string[];
  row: string;
}

/** Rule pages ship beside the bundle (dist/../docs/rules) and the sources (src/cli/../../docs/rules). */
async function docsDir(): Promise<string | undefined> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, '..', 'docs', 'rules'), path.join(here, '..', '..', 'docs', 'rules')]) {
    try {
      await readdir(dir);
      return dir;
    } catch {
      // try the next location
    }
  }
  return undefined;
}

export async function readPage(id: string): Promise<string | undefined> {
  const dir = await docsDir();
  return dir === undefined ? undefined : readFile(path.join(dir, `${id}.md`), 'utf8').catch(() => undefined);
}

const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/**
 * The codes a page documents: rows of its tables whose first header cell is
 * `code` or `sub-code`; each backquoted name in a row's first cell is a code
 * (written with or without the `rule/` prefix).
 */
export function codesOfPage(page: string, text: string): CodeDoc[] {
  const lines = text.split('\n');
  const out: CodeDoc[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.trimStart().startsWith('|') || !/^\s*\|[\s:|-]+\|?\s*$/.test(lines[i + 1]!)) continue;
    if (!/^(sub-)?code$/i.test(cells(lines[i]!)[0] ?? '')) continue;
    const header = [lines[i]!, lines[i + 1]!];
    for (let j = i + 2; j < lines.length && lines[j]!.trimStart().startsWith('|'); j++) {
      for (const m of (cells(lines[j]!)[0] ?? '').matchAll(/`([^`]+)`/g)) {
        const name = m[1]!;
        out.push({ code: name.startsWith(`${page}/`) ? name : `${page}/${name}`, page, header, row: lines[j]! });
      }
    }
  }
  return out;
}

export async function allCodes(): Promise<CodeDoc[]> {
  const pages = [...RULES.map((r) => r.id), ...ENGINE_PAGES];
  const texts = await Promise.all(pages.map(async (p) => [p, await readPage(p)] as const));
  return texts.flatMap(([p, t]) => (t === undefined ? [] : codesOfPage(p, t)));
}

function codeSection(docs: CodeDoc[]): string {
  const byPage = new Map<string, CodeDoc[]>();
  for (const d of docs) byPage.set(d.page, [...(byPage.get(d.page) ?? []), d]);
  const parts: string[] = [];
  for (const [page, rows] of byPage) {
    const summary = RULES.find((r) => r.id === page)?.summary;
    const unique = [...new Set(rows.map((r) => r.row))];
    parts.push(
      [`# ${page}`, ...(summary ? ['', summary] : []), '', rows[0]!.header[0]!, rows[0]!.header[1]!, ...unique, '', `The whole page: mlgate rules ${page} (${helpUrl(page)})`].join('\n'),
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/**
 * `mlgate rules ID`: a rule's or engine family's page; a code's row of its
 * page (`model-signing/unsigned`, `policy/expired-exception`, or a sub-code
 * alone when only one rule has it); or every code starting with ID.
 */
export async function describeRule(id: string): Promise<string> {
  const pages: readonly string[] = [...RULES.map((r) => r.id), ...ENGINE_PAGES];
  if (pages.includes(id)) {
    const text = await readPage(id);
    if (text !== undefined) return text;
    const rule = RULES.find((r) => r.id === id);
    return rule ? `${rule.id}: ${rule.title}\n\n${rule.summary}\n` : `${id}\n`;
  }
  const codes = await allCodes();
  const exact = codes.filter((c) => c.code === id || c.code.slice(c.page.length + 1) === id);
  if (exact.length > 0) return codeSection(exact);
  const prefixed = codes.filter((c) => c.code.startsWith(id));
  const prefixedPages = pages.filter((p) => p.startsWith(id));
  if (prefixedPages.length === 1 && prefixed.every((c) => c.page === prefixedPages[0])) return describeRule(prefixedPages[0]!);
  if (prefixed.length > 0) return codeSection(prefixed);
  // A code is compared with codes only: "model-signing/unsignd" is nearer "model-signing/unsigned" than the rule id it starts with.
  const candidates = id.includes('/') ? codes.map((c) => c.code) : [...pages, ...codes.map((c) => c.code)];
  throw new ConfigurationError(
    `unknown rule or code ${JSON.stringify(id)}${didYouMean(id, candidates)}; \`mlgate rules\` lists the rules, and each rule's page its codes`,
  );
}
