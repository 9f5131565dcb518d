import type { RuleLevel } from '../core/types.js';
import type { RemotePolicyRef } from '../core/evaluate-types.js';
import type { LoadedYaml } from '../formats/yaml.js';

/** Keys every rule accepts besides its own parameters. */
export const COMMON_RULE_KEYS = ['level', 'enforce-from', 'locked', 'exceptions', 'code-levels'] as const;

export interface RuleConfig {
  level?: RuleLevel;
  'enforce-from'?: string;
  locked?: boolean;
  exceptions?: 'allowed' | 'denied';
  'code-levels'?: Record<string, RuleLevel>;
  [param: string]: unknown;
}

export interface ExceptionDecl {
  rule: string;
  paths: string[];
  reason: string;
  owner: string;
  expires: string;
}

/** One policy document as written (after schema validation). */
export interface PolicyDoc {
  version: 1;
  extends?: string[];
  paths?: { exclude?: string[] };
  'max-exception-days'?: number;
  'inline-exceptions'?: 'allowed' | 'denied';
  rules?: Record<string, RuleConfig>;
  exceptions?: ExceptionDecl[];
}

export type LayerOrigin = { kind: 'builtin' } | { kind: 'local' } | { kind: 'remote'; ref: RemotePolicyRef };

/** A policy document with where it came from, for merging and for located messages. */
export interface PolicyLayer {
  /** Display name: `.github/mlgate.yml`, `mlgate:recommended`, `acme/policies/ml.yml@v3`. */
  name: string;
  /** Repository-relative path of the file inside its repository (empty for built-ins). */
  path: string;
  origin: LayerOrigin;
  doc: PolicyDoc;
  yaml: LoadedYaml;
  /**
   * The layers this one's `extends` resolved to, in order, including those
   * already merged through another path: what this policy means on its own,
   * which is what a lock in it protects.
   */
  extended?: PolicyLayer[];
}

export interface ResolvedException extends ExceptionDecl {
  /** Layer that declared it, its index in that layer's `exceptions`, and where. */
  layer: string;
  index: number;
  line: number;
  column: number;
  /** Repository-relative path of the declaring file when it is in this repository (findings go there). */
  localPath?: string;
}

/** A rule's settings after merging some layers. */
export interface RuleSettings {
  /** Level as configured after merging (before `enforce-from`). */
  level: RuleLevel;
  enforceFrom?: string;
  codeLevels: Record<string, RuleLevel>;
  params: Record<string, unknown>;
}

export interface ResolvedRule extends RuleSettings {
  id: string;
  /** Name of the first layer (in merge order) that locked the rule. */
  lockedBy?: string;
  /** Every layer that locks it: each one's settings are a floor. */
  locks?: string[];
  exceptionsAllowed: boolean;
  /** Layers that configured it, in order. */
  layers: string[];
}

export interface PolicyNoticeDecl {
  code: string;
  level: 'error' | 'warning' | 'info';
  message: string;
  path?: string;
  line?: number;
  column?: number;
}

export interface ResolvedPolicy {
  /** Layer names in merge order. */
  layers: string[];
  rules: Map<string, ResolvedRule>;
  /** Every `paths.exclude` glob of every layer. */
  exclude: string[];
  /** The exclusions that apply to a rule: a locked rule only honours those of the policies that lock it (and what they extend). */
  excludeFor(ruleId: string): string[];
  maxExceptionDays: number;
  /** `inline-exceptions: allowed` after merging: `# mlgate: ignore[…]` comments may waive findings. */
  inlineExceptions: boolean;
  exceptions: ResolvedException[];
  /** Findings about the policy itself (e.g. `policy/unpinned-extends`). */
  notices: PolicyNoticeDecl[];
  /** Repository-relative path of the root policy file when it exists in this repository. */
  policyPath?: string;
}
