import type { FailOn, Level, Mode } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { ChangeList } from '../inventory/changed.js';
import type { PolicyProvider } from '../policies/provider.js';

export interface EvaluateOptions {
  /** Absolute path of the repository work tree to evaluate. */
  root: string;
  /** Repository-relative policy path (default `.github/mlgate.yml`); absent file → mlgate:recommended. */
  policyPath?: string;
  provider: PolicyProvider;
  mode: Mode;
  /**
   * Required in changed mode. A promise lets the listing and the policy start
   * while git works out the change; its rejection (a bad `--base`) is thrown
   * before any policy error, as if it had been awaited first.
   */
  changes?: ChangeList | Promise<ChangeList>;
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
  /**
   * Called with each repository path a rule opens through its inventory (a
   * read, or the absolute path it streams from): what a changed-mode run
   * touches, for tests and benchmarks.
   */
  onOpen?: (path: string) => void;
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
