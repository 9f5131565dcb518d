import type { FailOn, Level, Mode } from './types.js';
import type { Logger } from './logger.js';
import type { ChangeList } from '../inventory/changed.js';

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

export interface EvaluateOptions {
  /** Absolute path of the repository work tree to evaluate. */
  root: string;
  /** Repository-relative policy path (default `.github/mlgate.yml`); absent file → mlgate:recommended. */
  policyPath?: string;
  provider: PolicyProvider;
  mode: Mode;
  /** Required in changed mode. */
  changes?: ChangeList;
  /** Overrides nothing in the policy; the threshold for the conclusion. */
  failOn?: FailOn;
  now?: Date;
  logger: Logger;
  toolVersion: string;
  /**
   * Notices the adapter adds as findings (e.g. `inventory/changed-files-capped`
   * when the PR is too large to list); they count like any other finding.
   */
  notices?: Notice[];
  /**
   * On a pull request (or `--base`), a file as it is in the base commit;
   * undefined when the base does not have it. When given, an inline waiver
   * counts only if its comment is already in the base: a change cannot waive
   * its own findings. Absent (full mode), the checked-out comments count.
   */
  baseFile?: (path: string) => Promise<string | undefined>;
  /** Where a front door follows a long run (the CLI's progress line); the core only answers polls. */
  progress?: ProgressPort;
}

/** A snapshot of a run in progress. */
export interface EvaluateProgress {
  /** Files the rules have opened so far, and the files listed. */
  filesRead: number;
  filesTotal: number;
  bytesHashed: number;
  rulesDone: number;
  rulesTotal: number;
  /** Rules still running, in registry order (empty while listing files). */
  running: string[];
}

export interface ProgressPort {
  /** Called once when the work starts; `poll` is cheap and may be called at any time until `stop`. */
  start(poll: () => EvaluateProgress): void;
  stop(): void;
}

export interface Notice {
  /** Full code with its prefix: `policy/...` or `inventory/...`. */
  code: string;
  level: Level;
  message: string;
  path?: string;
}
