import type { LfsPointer } from '../inventory/types.js';

/** A pointer file is small text; anything bigger is content. */
export const LFS_POINTER_MAX_BYTES = 1024;

const VERSION_LINE = /^version https:\/\/(git-lfs\.github\.com\/spec\/v1|hawser\.github\.com\/spec\/v1)\n/;

/**
 * Parses a Git LFS pointer (spec v1): `version`, `oid sha256:<64 hex>`, `size <n>`,
 * keys sorted, LF line endings. Returns undefined for anything else.
 */
export function parseLfsPointer(bytes: Uint8Array): LfsPointer | undefined {
  if (bytes.length > LFS_POINTER_MAX_BYTES || bytes.length < 40) return undefined;
  const text = Buffer.from(bytes).toString('latin1');
  if (!VERSION_LINE.test(text)) return undefined;
  const oid = /^oid sha256:([0-9a-f]{64})$/m.exec(text);
  const size = /^size (\d{1,16})$/m.exec(text);
  if (!oid?.[1] || !size?.[1]) return undefined;
  const n = Number(size[1]);
  if (!Number.isSafeInteger(n)) return undefined;
  return { oid: oid[1], size: n };
}
