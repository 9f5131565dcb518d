import type { RuleContext, RuleFinding } from '../rule.js';
import type { Inventory } from '../../inventory/types.js';
import { withFileSource } from '../../formats/byte-source.js';
import { checkFormat } from '../../formats/magic.js';
import { GGUF_MAGIC } from '../../formats/gguf.js';
import { startsLikeSafetensors } from '../../formats/safetensors.js';
import { checkChatTemplate, checkTokenizerConfig } from './chat-template.js';
import { checkGguf } from './gguf.js';
import { checkSafetensors } from './safetensors.js';

/**
 * Model formats that are not pickles but carry their own risk, recognised by
 * name: GGUF and safetensors headers, and the chat templates Hugging Face
 * stores beside a tokenizer. Each is read in its header (or as small text),
 * never whole.
 */
export type HeaderFormat = 'gguf' | 'safetensors' | 'tokenizer-config' | 'jinja';

/** Text files that hold a chat template are small; bigger ones fail closed as budget-exceeded. */
const TEXT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The header format of a repository file: by name, or for a `.bin` (the
 * extension llama.cpp used before `.gguf`, shared with PyTorch) by its
 * `GGUF` magic, read through the run's shared reader so the content scan that
 * follows does not open the file again.
 */
export async function headerFormatOfFile(path: string, inventory: Inventory): Promise<HeaderFormat | undefined> {
  const byName = headerFormatOf(path);
  if (byName || !/\.bin$/i.test(path)) return byName;
  try {
    return (await inventory.readHead(path, 4)).equals(GGUF_MAGIC) ? 'gguf' : undefined;
  } catch {
    // Unreadable here: the scan that follows reports it.
    return undefined;
  }
}

export function headerFormatOf(path: string): HeaderFormat | undefined {
  if (/\.gguf$/i.test(path)) return 'gguf';
  if (/\.safetensors$/i.test(path)) return 'safetensors';
  if (/(^|\/)(tokenizer_config|chat_template|processor_config)\.json$/.test(path)) return 'tokenizer-config';
  if (/(^|\/)(chat_template|additional_chat_templates\/[^/]+)\.jinja$/.test(path)) return 'jinja';
  return undefined;
}

/** Formats whose signature this module checks (the content sniffer leaves them to it). */
export const SIGNED_HEADER_FORMATS: ReadonlySet<HeaderFormat> = new Set(['gguf', 'safetensors']);

/**
 * Findings for one file of a header format. A GGUF or safetensors file that
 * does not start like one is format confusion (`format-mismatch`; the content
 * scan still scans what it really is, e.g. a pickle); one that starts like
 * itself but breaks further on is `malformed`.
 */
export async function checkHeaderFormat(kind: HeaderFormat, path: string, ctx: RuleContext<unknown>): Promise<RuleFinding[]> {
  if (kind === 'tokenizer-config') return checkTokenizerConfig(path, await ctx.inventory.readText(path, Math.min(TEXT_MAX_BYTES, ctx.maxFileBytes)));
  if (kind === 'jinja') return checkChatTemplate(await ctx.inventory.readText(path, Math.min(TEXT_MAX_BYTES, ctx.maxFileBytes)), { path, line: 1, textual: true, label: 'the chat template' });
  return withFileSource(ctx.inventory.abs(path), (src) => {
    const head = src.read(0, 512);
    const itself = kind === 'gguf' ? head.length < 4 || head.subarray(0, 4).equals(GGUF_MAGIC) : startsLikeSafetensors(head);
    const mismatch = itself ? undefined : checkFormat(path, head, src.size);
    if (mismatch) return [{ code: 'format-mismatch', path, message: `${path} ${mismatch}` }];
    return kind === 'gguf' ? checkGguf(path, src) : checkSafetensors(path, src);
  });
}

/**
 * Checks a header-format file inside the rule's guard and reports what it
 * finds. Returns true when the file is settled: a GGUF or safetensors file
 * that reads cleanly as itself holds no pickle (a safetensors header length
 * such as 640 starts with the bytes of a pickle's PROTO, and nothing more), so
 * the pickle scan is skipped.
 */
export async function settleHeaderFormat(kind: HeaderFormat, path: string, ctx: RuleContext<unknown>): Promise<boolean> {
  let clean = false;
  await ctx.guard(path, async () => {
    const found = await checkHeaderFormat(kind, path, ctx);
    for (const f of found) ctx.report(f);
    clean = found.length === 0;
  });
  return clean && SIGNED_HEADER_FORMATS.has(kind);
}
