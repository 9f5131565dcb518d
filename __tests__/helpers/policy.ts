import type { PolicyProvider } from '../../src/policies/provider.js';
import { ConfigurationError } from '../../src/core/errors.js';

/** A provider over in-memory files: `local` by repository path, `remote` by `owner/repo/path@ref`. */
export function memoryProvider(local: Record<string, string>, remote: Record<string, string> = {}): PolicyProvider & { remoteReads: string[] } {
  const remoteReads: string[] = [];
  return {
    remoteReads,
    readLocal: async (p) => local[p],
    readRemote: async (ref, file) => {
      const key = `${ref.owner}/${ref.repo}/${file ?? ref.path}@${ref.ref}`;
      remoteReads.push(key);
      const text = remote[key];
      if (text === undefined) throw new ConfigurationError(`${key}: not found`);
      return text;
    },
  };
}

/** The located message of a ConfigurationError thrown by `fn`, or a failure when none is thrown. */
export async function configError(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ConfigurationError) return e.details.length ? e.details : [e.message];
    throw e;
  }
  throw new Error('expected a ConfigurationError');
}
