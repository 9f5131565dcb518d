/** `owner/repo/path@ref` from an `extends` entry. */
export interface RemotePolicyRef {
  owner: string;
  repo: string;
  path: string;
  ref: string;
}

/**
 * Where policy text comes from. The CLI reads the work tree and `--policy-dir`;
 * the action reads the PR's base commit (local git or the contents API) and
 * remote policy repositories through the API.
 */
export interface PolicyProvider {
  /** A file of the checked repository (the policy itself, local `extends`, key files); undefined when absent. */
  readLocal(path: string): Promise<string | undefined>;
  /** A file of another repository at a ref; throws ConfigurationError when it cannot be read. */
  readRemote(ref: RemotePolicyRef, path?: string): Promise<string>;
  /** Display name of a local file in messages (e.g. `.github/mlgate.yml` or `.github/mlgate.yml@<base sha>`). */
  describeLocal?(path: string): string;
}
