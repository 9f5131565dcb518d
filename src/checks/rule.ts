import type { Level, Reference } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { DependencyIndex } from '../inventory/dependency-index.js';
import type { ChangedSet, Inventory } from '../inventory/types.js';

export type { DependencyIndex };

/** What a rule reports; the engine adds rule id, help URL, references, level and fingerprint. */
export interface RuleFinding {
  /** Sub-code without the rule prefix, e.g. `digest-mismatch` (reported as `model-signing/digest-mismatch`). */
  code?: string;
  message: string;
  path?: string;
  line?: number;
  endLine?: number;
  column?: number;
  /**
   * Caps the configured level for this finding (e.g. `info` for something that
   * cannot be verified, `warning` for an unknown-but-not-dangerous global).
   */
  maxLevel?: Level;
}

export interface RuleContext<P> {
  /** Parameters as written in the policy (validated against `paramsSchema`; defaults are the rule's to apply). */
  readonly params: P;
  readonly inventory: Inventory;
  /** The change under review; null in full mode (evaluate everything). */
  readonly changed: ChangedSet | null;
  /** Evaluation time (tests pin it). */
  readonly now: Date;
  /** Repository-relative path of the policy file, when it lives in this repository. */
  readonly policyPath?: string;
  readonly logger: Logger;
  /** Aborted when the rule's time budget runs out. */
  readonly signal: AbortSignal;
  /** Per-file read budget in bytes for whole-file reads (parsing, not streaming hashes). */
  readonly maxFileBytes: number;
  /** Whether a repository path is test code (the policy's `paths.tests`); each rule documents what that changes. */
  isTest(path: string): boolean;
  /**
   * Whether findings on `path` belong to this run: always in full mode; in
   * changed mode, a changed path or one the change invalidates for this rule
   * (its `invalidates` dependents).
   */
  inScope(path: string): boolean;
  report(finding: RuleFinding): void;
  /**
   * Runs `fn` for one repository file; a FileProblem or any other parse failure it
   * throws becomes a finding on `path` (fail closed) instead of ending the rule.
   */
  guard(path: string, fn: () => Promise<void> | void): Promise<void>;
}

/**
 * What a changed path invalidates for one rule: `dependents` are evaluated as if
 * they had changed too (their findings are reported); `inputs` are only read
 * to judge the change (an including requirements file, a record's dataset).
 */
export interface Invalidation {
  dependents?: Iterable<string>;
  inputs?: Iterable<string>;
}

/**
 * How a locked rule's parameter may change in a later policy layer without
 * loosening it (DESIGN §3, "Locked rules"):
 * - `superset`: an array that may only grow (more paths, more required fields);
 * - `subset`: an array that may only shrink (signers);
 * - `allow-list`: like `subset`, but an empty list means "anything", so any list tightens an empty one;
 * - `true-stays`: a boolean that may not go from true to false;
 * - `false-stays`: a boolean that may not go from false to true;
 * - `max`: a number that may only decrease (e.g. max-age-days);
 * - `fixed`: may not change at all (the default for unlisted parameters);
 * - `allow-map`: `glob → allowed values`; every glob stays, each with a subset of its values, and globs may be added;
 * - `deny-map`: `glob → forbidden values`; every glob stays, each with a superset of its values, and globs may be added.
 */
export type TightenKind = 'superset' | 'subset' | 'allow-list' | 'true-stays' | 'false-stays' | 'max' | 'fixed' | 'allow-map' | 'deny-map';

/** A small repository for the registry test: files, optional parameters and the sub-codes expected. */
export interface RuleExample {
  description: string;
  files: Record<string, string>;
  params?: Record<string, unknown>;
  /** Changed-mode paths; omit for full mode. */
  changed?: string[];
  /** Sub-codes (without the rule prefix) of the findings expected; empty for the passing example. */
  expect: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Rule<P = any> {
  /** Stable id, also the docs page name: docs/rules/<id>.md. */
  id: string;
  title: string;
  /** One sentence for `mlgate rules`. */
  summary: string;
  defaultLevel: Level;
  references: Reference[];
  /** JSON Schema (draft 2020-12 subset) of the rule's parameters: an object with `additionalProperties: false`. */
  paramsSchema: Record<string, unknown>;
  /**
   * Every sub-code the rule reports (without the rule prefix), when the rule
   * lists them: a policy's `code-levels` may then name only these.
   */
  codes?: readonly string[];
  /** Locked-rule semantics per parameter; unlisted parameters are `fixed`. */
  tighten: Record<string, TightenKind>;
  examples: { pass: RuleExample; fail: RuleExample };
  /**
   * Parameters that name files of the policy's own repository (keys, trusted
   * roots), as dotted paths with `*` for array items, e.g. `signers.*.public-key`.
   * The engine replaces each value with the file's text, read from the repository
   * that holds the policy layer that set it, so the rule sees inline content
   * (PEM or JSON). A value that is already inline is left as is.
   */
  policyFiles?: string[];
  /** Defaults: 60 s and 512 MiB per file read whole. */
  budget?: { ms?: number; maxFileBytes?: number };
  /**
   * Changed mode: what a change to `path` (added, modified, deleted or renamed)
   * invalidates for this rule, from lookups alone. A rule that leaves it out
   * judges each changed file on its own. The changed-mode test holds every
   * rule to it: a run opens only the change, what this declares, and the
   * policy and configuration files.
   */
  invalidates?(path: string, index: DependencyIndex, params: P): Invalidation | undefined;
  run(ctx: RuleContext<P>): Promise<void>;
}

export function atlas(id: string): Reference {
  const kind = id.startsWith('AML.M') ? 'mitigations' : 'techniques';
  return { id, url: `https://atlas.mitre.org/${kind}/${id}` };
}

export function owaspLlm(id: string, slug: string): Reference {
  return { id, url: `https://genai.owasp.org/llmrisk/${slug}/` };
}
