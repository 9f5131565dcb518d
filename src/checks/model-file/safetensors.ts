import type { RuleFinding } from '../rule.js';
import type { ByteSource } from '../../formats/byte-source.js';
import { readSafetensorsHeader } from '../../formats/safetensors.js';

/** Findings for a safetensors header (only the header is read). */
export function checkSafetensors(path: string, src: ByteSource): RuleFinding[] {
  const res = readSafetensorsHeader(src);
  if (res.ok) return [];
  return [
    {
      code: res.code,
      path,
      message:
        res.code === 'malformed'
          ? `${path} is not a valid safetensors file: ${res.reason}. The safetensors loader refuses such a file, and a reader that trusts the header instead reads bytes no tensor owns, where a second payload can hide; re-save the weights with safetensors' save_file, or do not load this file`
          : `${path}: ${res.reason}, so the file was not checked and fails closed. A real model's header is far smaller; check where this file comes from`,
    },
  ];
}
