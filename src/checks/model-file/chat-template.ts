import type { RuleFinding } from '../rule.js';
import { analyzeChatTemplate, TEMPLATE_MAX_CHARS } from '../../formats/chat-template.js';
import { LineIndex } from '../../formats/text-position.js';

/** Where a template sits, for the finding: the file, the line the template (or its JSON key) starts on, and what holds it. */
export interface TemplateSite {
  path: string;
  /** Line of the template's first character in the file (a `.jinja` file: 1; JSON: the key's line); undefined in a binary file. */
  line?: number;
  /** Locates hits inside a template written out as text (`.jinja`), where lines are the template's own. */
  textual?: boolean;
  /** E.g. "the chat template", "the chat template 'tool_use'", "the GGUF metadata key tokenizer.chat_template". */
  label: string;
}

const WHY =
  'Inference servers render chat templates with Jinja2, and some rendered them without a sandbox (llama-cpp-python CVE-2024-34359, vLLM, SGLang CVE-2026-5760), so a template that reaches Python internals runs code on the machine that serves the model';

/** Findings for one chat template (none when it is an ordinary one). */
export function checkChatTemplate(source: string, site: TemplateSite): RuleFinding[] {
  const v = analyzeChatTemplate(source);
  const at = { path: site.path, ...(site.line !== undefined ? { line: site.line } : {}) };
  switch (v.kind) {
    case 'ok':
      return [];
    case 'too-large':
      return [{ code: 'budget-exceeded', ...at, message: `${site.path}: ${site.label} is ${v.chars} characters, over the ${TEMPLATE_MAX_CHARS}-character limit for analysing a chat template, so it was not checked and fails closed. A real chat template is a few kilobytes; replace this one with the template of the model family it claims to be` }];
    case 'unparsable':
      return [{ code: 'template-unparsable', ...at, message: `${site.path}: ${site.label} does not parse as a Jinja chat template (${v.reason}), so mlgate cannot tell what it does when an inference server renders it and fails closed. Fix the template syntax; features chat templates do not use (include, import, extends, raw) are not accepted` }];
    case 'injection': {
      let line = site.line;
      if (site.textual) {
        const needle = v.hits.find((h) => h.needle !== undefined && source.includes(h.needle))?.needle;
        if (needle !== undefined) line = new LineIndex(source).position(source.indexOf(needle)).line + (site.line ?? 1) - 1;
      }
      const whats = v.hits.slice(0, 3).map((h) => h.what);
      const more = v.hits.length > 3 ? ` (and ${v.hits.length - 3} more)` : '';
      return [{
        code: 'template-injection',
        path: site.path,
        ...(line !== undefined ? { line } : {}),
        message: `${site.path}: ${site.label} ${whats.join('; ')}${more}. ${WHY}. A chat template only needs messages, roles, tools and the special tokens: remove these expressions, or replace the template with the one the model family publishes, and do not load this model until you know where it came from`,
      }];
    }
  }
}

/** 1-based line of each match of `re` in `text` (a global regex). */
function matchLines(text: string, re: RegExp): Array<{ offset: number; line: number }> {
  const idx = new LineIndex(text);
  return [...text.matchAll(re)].map((m) => ({ offset: m.index, line: idx.position(m.index).line }));
}

/**
 * A `tokenizer_config.json` or `chat_template.json`: `chat_template` is a
 * string or a list of `{name, template}`. Findings sit on the line of the
 * key (JSON strings are one line).
 */
export function checkTokenizerConfig(path: string, text: string): RuleFinding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return [{ code: 'malformed', path, message: `${path} is not valid JSON (${(e as Error).message}), so its chat template cannot be checked; transformers could not load it either. Fix the JSON` }];
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('chat_template' in doc)) return [];
  const ct = (doc as { chat_template: unknown }).chat_template;
  // JSON.parse keeps the last of duplicate keys: so does the location.
  const key = matchLines(text, /"chat_template"\s*:/g).at(-1);
  if (ct === null || ct === undefined) return [];
  if (typeof ct === 'string') return checkChatTemplate(ct, { path, line: key?.line, label: 'the chat template (chat_template)' });
  const bad = (why: string): RuleFinding[] => [{ code: 'malformed', path, ...(key ? { line: key.line } : {}), message: `${path}: chat_template ${why}; transformers reads a string or a list of {"name", "template"} objects, so this template cannot be checked. Fix the value` }];
  if (!Array.isArray(ct)) return bad(`is a ${typeof ct}`);
  const templateKeys = key ? matchLines(text.slice(key.offset), /"template"\s*:/g).map((m) => m.line + key.line - 1) : [];
  const out: RuleFinding[] = [];
  ct.forEach((item, i) => {
    const it = item as { name?: unknown; template?: unknown } | null;
    if (typeof it !== 'object' || it === null || typeof it.template !== 'string' || typeof it.name !== 'string') {
      out.push(...bad(`entry ${i} is not a {"name": string, "template": string} object`));
      return;
    }
    out.push(...checkChatTemplate(it.template, { path, line: templateKeys[i] ?? key?.line, label: `the chat template '${it.name}' (chat_template[${i}])` }));
  });
  return out;
}
