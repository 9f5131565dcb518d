import { dump } from 'js-yaml';
import type { Rule } from '../../checks/rule.js';
import type { RuleLevel } from '../../core/types.js';

export const BUILTIN_NAMES = ['mlgate:recommended', 'mlgate:strict'] as const;

/**
 * In `mlgate:recommended` each rule runs at its default level (errors only for
 * what is clearly dangerous or broken); these sub-codes are held lower so that
 * merely missing hygiene warns instead of blocking.
 */
const RECOMMENDED_CODE_LEVELS: Record<string, Record<string, RuleLevel>> = {
  'model-signing': { unsigned: 'warning' },
  // A digest that does not match the data is tampering or a broken record, not hygiene.
  'dataset-provenance': { 'digest-mismatch': 'error' },
  // "Cannot tell" about an expression is thousands of findings in a large library and no action for its
  // maintainers; `mlgate:strict` (or a `code-levels` entry) turns them back on.
  'model-hub-pinning': { 'unverifiable-revision': 'off', 'unverifiable-repo': 'off' },
};

/** The YAML text of a built-in set, generated from the registered rules so it never names an unknown rule. */
export function builtinPolicyText(name: string, rules: readonly Rule[]): string | undefined {
  let doc: Record<string, unknown>;
  if (name === 'mlgate:recommended') {
    doc = {
      version: 1,
      rules: Object.fromEntries(
        rules.map((r) => {
          const codeLevels = RECOMMENDED_CODE_LEVELS[r.id];
          return [r.id, codeLevels ? { level: r.defaultLevel, 'code-levels': codeLevels } : { level: r.defaultLevel }];
        }),
      ),
    };
  } else if (name === 'mlgate:strict') {
    doc = { version: 1, rules: Object.fromEntries(rules.map((r) => [r.id, { level: 'error' }])) };
  } else {
    return undefined;
  }
  return `# ${name} (built in)\n${dump(doc, { lineWidth: 120 })}`;
}
