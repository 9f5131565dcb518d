import type { DependencyIndex, Rule } from '../checks/rule.js';
import type { ChangedSet } from '../inventory/types.js';

export interface RuleInvalidation {
  /** Evaluated as if changed: findings on them are reported. */
  dependents: Set<string>;
  /** Read to judge the change, never reported on for it. */
  inputs: Set<string>;
}

/** What the change invalidates for one rule, by the rule's own declaration (nothing when it declares none). */
export function invalidatedBy(rule: Rule, params: Record<string, unknown>, changed: ChangedSet, index: DependencyIndex): RuleInvalidation {
  const out: RuleInvalidation = { dependents: new Set(), inputs: new Set() };
  if (!rule.invalidates) return out;
  for (const p of changed.all()) {
    const inv = rule.invalidates(p, index, params);
    for (const d of inv?.dependents ?? []) if (!changed.changed.has(d)) out.dependents.add(d);
    for (const i of inv?.inputs ?? []) out.inputs.add(i);
  }
  return out;
}
