import { RULES } from '../checks/registry.js';
import { ConfigurationError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { helpUrl } from '../core/version.js';
import { stripAnchors, type CodeDoc } from '../report/code-docs.js';
import { ENGINE_PAGES, allCodes, readPage } from '../report/rule-pages.js';

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
    // The rows' HTML anchors are for links into the rendered page, noise in a terminal.
    if (text !== undefined) return stripAnchors(text);
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
