import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { AllowList } from '../../formats/pickle/classify.js';
import { fileAccess, type RandomAccess } from '../../formats/pickle/source.js';

/** What a format check reports on its file; the rule adds the path. */
export interface FormatIssue {
  code: string;
  message: string;
  /** `warning` for what is unusual but not known to be dangerous. */
  severity: 'error' | 'warning';
}

export interface FormatCheckOptions {
  allow: AllowList;
  /** TensorFlow op types reviewed and accepted (`allow-tf-ops`). */
  allowTfOps: ReadonlySet<string>;
  /** ONNX operator domains reviewed and accepted (`allow-onnx-domains`). */
  allowOnnxDomains: ReadonlySet<string>;
  signal?: AbortSignal;
  /** Bytes per file mlgate reads at most. */
  maxBytes: number;
}

/** Runs `fn` on a repository file opened without following a link. */
export async function withFile<T>(abs: string, fn: (ra: RandomAccess) => Promise<T>): Promise<T> {
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    return await fn(fileAccess(handle, size));
  } finally {
    await handle.close();
  }
}
