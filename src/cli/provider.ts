import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { PolicyProvider, RemotePolicyRef } from '../policies/provider.js';
import { MAX_POLICY_BYTES } from '../policies/load.js';
import { formatRemoteRef } from '../policies/remote.js';

async function readSmall(abs: string): Promise<string | undefined> {
  let st;
  try {
    st = await stat(abs);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  // The size cap lives in the policy loader; this only avoids reading a huge file whole first.
  if (st.size > MAX_POLICY_BYTES * 4) return 'x'.repeat(MAX_POLICY_BYTES + 1);
  return readFile(abs, 'utf8');
}

/**
 * The CLI's policy source: the work tree for local files, and `--policy-dir DIR`
 * for remote `extends` (read as DIR/owner/repo/path, e.g. a checkout of the
 * policy repository at the pinned ref).
 */
export function cliPolicyProvider(root: string, policyDir: string | undefined, overrides: Map<string, string> = new Map()): PolicyProvider {
  return {
    async readLocal(rel) {
      return readSmall(overrides.get(rel) ?? path.join(root, ...rel.split('/')));
    },
    async readRemote(ref: RemotePolicyRef, file?: string) {
      const shown = formatRemoteRef(ref, file ?? ref.path);
      if (!policyDir) {
        throw new ConfigurationError(`${shown}: remote policies are read from --policy-dir DIR (as DIR/${ref.owner}/${ref.repo}/${file ?? ref.path}); pass --policy-dir`);
      }
      const text = await readSmall(path.join(policyDir, ref.owner, ref.repo, ...(file ?? ref.path).split('/')));
      if (text === undefined) throw new ConfigurationError(`${shown}: not found under --policy-dir ${policyDir} (expected ${path.join(policyDir, ref.owner, ref.repo, file ?? ref.path)})`);
      return text;
    },
    describeLocal: (rel) => (overrides.has(rel) ? path.relative(process.cwd(), overrides.get(rel)!) || rel : rel),
  };
}
