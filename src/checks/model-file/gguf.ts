import type { RuleFinding } from '../rule.js';
import type { ByteSource } from '../../formats/byte-source.js';
import { GGUF_TEMPLATE_MAX_BYTES, readGgufHeader } from '../../formats/gguf.js';
import { checkChatTemplate } from './chat-template.js';

/** Findings for a GGUF file's header and the chat templates in its metadata. */
export function checkGguf(path: string, src: ByteSource): RuleFinding[] {
  const res = readGgufHeader(src);
  const out: RuleFinding[] = [];
  if (!res.ok) {
    out.push({
      code: res.code,
      path,
      message:
        res.code === 'malformed'
          ? `${path} is not a well-formed GGUF file: ${res.reason}. llama.cpp and other GGUF readers trust these lengths and offsets, so a forged one makes a reader misread the metadata (the chat template included) or read outside the file; re-export the model with llama.cpp's conversion scripts, or do not load it`
          : `${path}: ${res.reason}, so the GGUF header was not read to the end and the file fails closed. Check where the model comes from; a real model's metadata is far smaller`,
    });
  }
  // Templates read before a problem are judged too: the problem may be what hides the rest.
  for (const t of res.templates) {
    const label = `the chat template in the GGUF metadata '${t.key}'`;
    if (t.value === undefined) {
      out.push({ code: 'budget-exceeded', path, message: `${path}: ${label} is ${t.bytes} bytes, over the ${GGUF_TEMPLATE_MAX_BYTES}-byte limit for analysing a chat template, so it was not checked and fails closed; a real chat template is a few kilobytes` });
    } else {
      out.push(...checkChatTemplate(t.value, { path, label }));
    }
  }
  return out;
}
