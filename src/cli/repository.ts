import { ConfigurationError } from '../core/errors.js';
import { originAndHead, REPOSITORY_NAME } from '../inventory/git-origin.js';
import type { RepositoryInfo } from '../report/types.js';

/**
 * The report's `repository`: `--repository OWNER/NAME` when given, else the
 * `origin` remote; the commit and branch from HEAD. Undefined when neither
 * names the repository (a directory outside git, a remote that is a path).
 */
export function reportRepository(root: string, explicit: string | undefined): Promise<RepositoryInfo | undefined> {
  // Thrown, not rejected: a misspelt option is answered before anything runs.
  if (explicit !== undefined && !REPOSITORY_NAME.test(explicit)) {
    throw new ConfigurationError(`--repository ${JSON.stringify(explicit)}: expected OWNER/NAME, as in https://github.com/OWNER/NAME`);
  }
  return describeRepository(root, explicit);
}

async function describeRepository(root: string, explicit: string | undefined): Promise<RepositoryInfo | undefined> {
  const { origin, commit, ref } = await originAndHead(root);
  if (explicit === undefined) return origin ? { name: origin.name, commit, ref, url: origin.url } : undefined;
  // The origin's host when it is the same repository (GitHub Enterprise Server), else github.com.
  const url = origin && origin.name.toLowerCase() === explicit.toLowerCase() ? origin.url : `https://github.com/${explicit}`;
  return { name: explicit, commit, ref, url };
}
