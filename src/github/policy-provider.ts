import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { PolicyProvider, RemotePolicyRef } from '../policies/provider.js';
import { git } from '../inventory/git.js';
import { normaliseRepoPath } from '../inventory/scan.js';
import { hasCommit } from './changed-files.js';
import { httpStatus, type GitHubClient } from './client.js';
import type { Repo } from './event.js';

/**
 * Read cap for policy files and what they reference (keys, trust roots); the
 * policy loader applies its own, smaller cap to policies with a located error.
 */
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface ProviderOptions {
  root: string;
  repo: Repo;
  /** Read local files at this commit (the PR's base) instead of the work tree. */
  commit?: string;
  /** Absent when no token: remote policies then cannot be read. */
  client?: GitHubClient;
}

/**
 * Reads policy text for the engine. On a pull request every local file comes
 * from the base commit (local git when the checkout has it, else the contents
 * API), so a PR cannot rewrite the rules that judge it; remote `extends` come
 * from the contents API at their pinned ref.
 */
export class GitHubPolicyProvider implements PolicyProvider {
  private baseInCheckout: Promise<boolean> | undefined;

  constructor(private readonly opts: ProviderOptions) {}

  describeLocal(file: string): string {
    return this.opts.commit ? `${file}@${this.opts.commit.slice(0, 12)}` : file;
  }

  async readLocal(file: string): Promise<string | undefined> {
    const rel = repoPath(file);
    const { commit, root } = this.opts;
    if (!commit) return readWorkTree(root, rel);
    this.baseInCheckout ??= hasCommit(root, commit);
    if (await this.baseInCheckout) return readAtCommit(root, commit, rel);
    if (!this.opts.client) {
      throw new ConfigurationError(`Cannot read ${rel} at the base commit ${commit}: the checkout does not have it and no token was given. Check out with \`fetch-depth: 0\` or pass \`token\`.`);
    }
    return this.fetch(this.opts.repo, rel, commit, (status) =>
      status === 404 ? undefined : `Cannot read ${rel} at the base commit ${commit} through the contents API (HTTP ${status}); grant \`contents: read\` or check out with \`fetch-depth: 0\`.`,
    );
  }

  async readRemote(ref: RemotePolicyRef, file?: string): Promise<string> {
    const rel = repoPath(file ?? ref.path);
    const name = `${ref.owner}/${ref.repo}/${rel}@${ref.ref}`;
    if (!this.opts.client) throw new ConfigurationError(`extends: ${name}: a remote policy needs the \`token\` input to read ${ref.owner}/${ref.repo}.`);
    const text = await this.fetch({ owner: ref.owner, repo: ref.repo }, rel, ref.ref, (status) =>
      status === 404
        ? `extends: ${name}: not found (HTTP 404). Check the path and the ref, and that the token can read ${ref.owner}/${ref.repo} (the default GITHUB_TOKEN reads only this repository; pass a token with contents: read on the policy repository).`
        : `extends: ${name}: cannot be read (HTTP ${status}). Pass a \`token\` with contents: read on ${ref.owner}/${ref.repo}.`,
    );
    if (text === undefined) throw new ConfigurationError(`extends: ${name}: not found.`);
    return text;
  }

  /** `onError` turns an HTTP status into undefined (absent file) or the message of a ConfigurationError. */
  private async fetch(repo: Repo, file: string, ref: string, onError: (status: number) => string | undefined): Promise<string | undefined> {
    const client = this.opts.client!;
    let data: unknown;
    try {
      ({ data } = await client.rest.repos.getContent({ ...repo, path: file, ref, mediaType: { format: 'raw' } }));
    } catch (err) {
      const status = httpStatus(err);
      if (status === undefined) throw err;
      const message = onError(status);
      if (message === undefined) return undefined;
      throw new ConfigurationError(message);
    }
    // The raw media type answers a file's bytes; a directory answers its JSON listing.
    if (typeof data !== 'string') throw new ConfigurationError(`${repo.owner}/${repo.repo}/${file}@${ref} is not a file.`);
    if (Buffer.byteLength(data) > MAX_READ_BYTES) throw new ConfigurationError(`${repo.owner}/${repo.repo}/${file}@${ref} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
    return data;
  }
}

/** Repository-relative, forward slashes, nothing that leaves the repository. */
function repoPath(file: string): string {
  const rel = normaliseRepoPath(file);
  if (!rel) throw new ConfigurationError(`${JSON.stringify(file)} is not a path inside the repository.`);
  return rel;
}

async function readWorkTree(root: string, rel: string): Promise<string | undefined> {
  const abs = path.join(root, rel);
  let size: number;
  try {
    const st = await lstat(abs);
    if (!st.isFile()) throw new ConfigurationError(`${rel} is not a regular file (symbolic links are not followed).`);
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (size > MAX_READ_BYTES) throw new ConfigurationError(`${rel} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
  return readFile(abs, 'utf8');
}

async function readAtCommit(root: string, commit: string, rel: string): Promise<string | undefined> {
  const spec = `${commit}:${rel}`;
  let type: string;
  try {
    type = (await git(root, ['cat-file', '-t', spec])).trim();
  } catch {
    return undefined; // not in that commit
  }
  if (type !== 'blob') throw new ConfigurationError(`${rel} at ${commit} is not a file.`);
  const size = Number((await git(root, ['cat-file', '-s', spec])).trim());
  if (size > MAX_READ_BYTES) throw new ConfigurationError(`${rel} at ${commit} is larger than ${MAX_READ_BYTES} bytes; it is not a policy file.`);
  return git(root, ['cat-file', 'blob', spec], MAX_READ_BYTES + 1024);
}
