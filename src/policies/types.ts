import type { RuleLevel } from '../core/types.js';
import type { RemotePolicyRef } from './provider.js';
import type { LoadedYaml } from '../formats/yaml.js';

/** Keys every rule accepts besides its own parameters. */
export const COMMON_RULE_KEYS = ['level', 'enforce-from', 'locked', 'exceptions', 'code-levels'] as const;

export interface RuleConfig {
  level?: RuleLevel;
  'enforce-from'?: string;
  locked?: boolean;
  exceptions?: ExceptionsSetting;
  'code-levels'?: Record<string, RuleLevel>;
  [param: string]: unknown;
}

/** On a locked rule: whether other layers may waive its findings, optionally only those of some sub-codes. */
export type ExceptionsSetting = 'allowed' | 'denied' | { allowed: boolean; codes?: string[] };

export interface ExceptionDecl {
  /** A rule id, or `rule/code` as shorthand for that rule with `codes: [code]`. */
  rule: string;
  paths: string[];
  /** Sub-codes of the rule (without its prefix); the finding's code must be one of them. */
  codes?: string[];
  /** Finding fingerprints from a report; the finding's must be one of them. */
  fingerprints?: string[];
  reason: string;
  owner: string;
  expires: string;
}

/** One policy document as written (after schema validation). */
export interface PolicyDoc {
  version: 1;
  extends?: string[];
  paths?: { exclude?: string[]; tests?: string[] };
  'max-exception-days'?: number;
  'inline-exceptions'?: 'allowed' | 'denied';
  rules?: Record<string, RuleConfig>;
  exceptions?: ExceptionDecl[];
  /** Repository-relative path of the baseline file (`mlgate baseline`); read from the root policy only. */
  baseline?: string;
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
  /** Where the waiver was written: a policy's `exceptions`, or an entry of the baseline file. */
  source: 'policy' | 'baseline';
  /**
   * Sub-codes a path-only exception may not waive: the tampering codes, or
   * those a lock does not list. Computed when layers are merged.
   */
  withheld?: string[];
  /** A baseline entry's recorded path (its `paths` is `**`: the fingerprint already names the file). */
  entryPath?: string;
  /** A lock's list of waivable sub-codes: the exception waives nothing else. */
  onlyCodes?: string[];
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
  /** Sub-codes the locks let other layers waive (every lock's list, intersected); undefined: no lock lists codes. */
  waivableCodes?: string[];
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
  /** The `paths.tests` globs that apply to a rule (the defaults when no applicable layer sets them); locked rules as for excludeFor. */
  testsFor(ruleId: string): string[];
  maxExceptionDays: number;
  /** `inline-exceptions: allowed` after merging: `# mlgate: ignore[…]` comments may waive findings. */
  inlineExceptions: boolean;
  exceptions: ResolvedException[];
  /** Findings about the policy itself (e.g. `policy/unpinned-extends`). */
  notices: PolicyNoticeDecl[];
  /** Repository-relative path of the root policy file when it exists in this repository. */
  policyPath?: string;
  /** Repository-relative path of the baseline file the root policy names. */
  baselinePath?: string;
}
