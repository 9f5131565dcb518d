import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { lockedSettings, locksOf, looseningsOf, overrideMerge, type Lock } from './lock.js';
import type { PolicyLayer, ResolvedException, ResolvedRule, RuleConfig } from './types.js';
import { dottedKey } from './validate.js';

export const DEFAULT_MAX_EXCEPTION_DAYS = 365;

export interface MergedPolicy {
  rules: Map<string, ResolvedRule>;
  exceptions: ResolvedException[];
  maxExceptionDays: number;
  inlineExceptions: boolean;
  /** Every `paths.exclude` glob of every layer. */
  exclude: string[];
  excludeFor(ruleId: string): string[];
}

/**
 * `max-exception-days` is the smallest any layer sets; a policy that locks a
 * rule also keeps the limit it sets from being raised by any other layer, so a
 * repository cannot write longer exceptions than the organisation allows.
 */
function maxDaysProblems(layers: readonly PolicyLayer[], locks: readonly Lock[]): string[] {
  const out: string[] = [];
  const lockers = new Map(locks.map((l) => [l.layer, l.own]));
  for (const [locker, own] of lockers) {
    const rules = Object.entries(locker.doc.rules ?? {}).filter(([, cfg]) => cfg.locked === true).map(([id]) => id);
    const limits = [...own].map((l) => l.doc['max-exception-days']).filter((n): n is number => n !== undefined);
    if (limits.length === 0) continue;
    const limit = Math.min(...limits);
    for (const layer of layers) {
      const days = layer.doc['max-exception-days'];
      if (days === undefined || days <= limit || own.has(layer) || lockers.has(layer)) continue;
      const pos = layer.yaml.locate(['max-exception-days'], { key: true });
      out.push(
        formatLocated(
          layer.name,
          pos.line,
          pos.column,
          'max-exception-days',
          `raises the limit from ${limit} to ${days} days, but ${locker.name} locks ${rules.join(', ')} and allows exceptions of at most ${limit} days; remove this setting or ask the owners of ${locker.name}`,
        ),
      );
    }
  }
  return out;
}

/**
 * `inline-exceptions` is the last layer's that sets it (default denied); a
 * policy that locks a rule and says `denied` is a floor, so no layer outside it
 * may say `allowed`: repository comments must not reopen what it closed.
 */
function inlineProblems(layers: readonly PolicyLayer[], locks: readonly Lock[]): string[] {
  const out: string[] = [];
  const deniers = new Map(locks.filter((l) => l.layer.doc['inline-exceptions'] === 'denied').map((l) => [l.layer, l.own]));
  for (const [locker, own] of deniers) {
    for (const layer of layers) {
      if (layer.doc['inline-exceptions'] !== 'allowed' || own.has(layer) || layer.origin.kind === 'builtin') continue;
      const pos = layer.yaml.locate(['inline-exceptions'], { key: true });
      out.push(
        formatLocated(
          layer.name,
          pos.line,
          pos.column,
          'inline-exceptions',
          `allows inline waivers, but ${locker.name} locks rules and sets \`inline-exceptions: denied\`: remove this setting, or ask the owners of ${locker.name}`,
        ),
      );
    }
  }
  return out;
}

/**
 * Merges layers in order (DESIGN §3): a later layer overrides an earlier one key
 * by key inside a rule. A locked rule is the exception: what the locking policy
 * says (with what it extends) is a floor for every other layer, before or after
 * it, and a loosening is a configuration error that names both files.
 */
export function mergeLayers(layers: readonly PolicyLayer[], registry: readonly Rule[]): MergedPolicy {
  const byId = new Map(registry.map((r) => [r.id, r]));
  const problems: string[] = [];
  const configured = new Map<string, { layer: PolicyLayer; cfg: RuleConfig }[]>();
  for (const layer of layers) {
    for (const [id, cfg] of Object.entries(layer.doc.rules ?? {}) as [string, RuleConfig][]) {
      if (!byId.has(id)) continue; // schema validation already rejected unknown ids
      configured.set(id, [...(configured.get(id) ?? []), { layer, cfg }]);
    }
  }

  const rules = new Map<string, ResolvedRule>();
  const locksById = new Map<string, Lock[]>();
  for (const [id, entries] of configured) {
    const rule = byId.get(id)!;
    const names = entries.map((e) => e.layer.name);
    const locks = locksOf(id, rule, layers);
    if (locks.length === 0) {
      rules.set(id, { id, ...overrideMerge(rule, entries.map((e) => e.cfg)), exceptionsAllowed: true, layers: names });
      continue;
    }
    locksById.set(id, locks);
    for (const lock of locks) {
      for (const { layer, cfg } of entries) {
        // Built-in sets are baselines nobody edits: where one is looser than a lock, the lock simply wins.
        if (lock.own.has(layer) || layer.origin.kind === 'builtin') continue;
        problems.push(...looseningsOf(rule, lock, layer, cfg));
      }
    }
    const outside = entries.filter((e) => !locks.some((l) => l.own.has(e.layer))).map((e) => e.cfg);
    rules.set(id, {
      id,
      ...lockedSettings(rule, locks, outside),
      lockedBy: locks[0]!.layer.name,
      locks: locks.map((l) => l.layer.name),
      exceptionsAllowed: locks.every((l) => l.allowsExceptions),
      layers: names,
    });
  }

  const exceptions: ResolvedException[] = [];
  for (const layer of layers) {
    (layer.doc.exceptions ?? []).forEach((ex, i) => {
      const pos = layer.yaml.locate(['exceptions', i]);
      if (!byId.has(ex.rule)) {
        const p = layer.yaml.locate(['exceptions', i, 'rule']);
        problems.push(formatLocated(layer.name, p.line, p.column, dottedKey(['exceptions', i, 'rule']), `unknown rule id ${JSON.stringify(ex.rule)}${didYouMean(ex.rule, byId.keys())}`));
      }
      for (const lock of locksById.get(ex.rule) ?? []) {
        if (lock.own.has(layer) || lock.allowsExceptions) continue;
        problems.push(
          formatLocated(
            layer.name,
            pos.line,
            pos.column,
            dottedKey(['exceptions', i]),
            `${lock.layer.name} locks rule ${ex.rule} without \`exceptions: allowed\`, so exceptions to it cannot be added here; fix the findings, or ask the owners of ${lock.layer.name} to allow exceptions to it`,
          ),
        );
      }
      exceptions.push({ ...ex, layer: layer.name, index: i, line: pos.line, column: pos.column, localPath: layer.origin.kind === 'local' ? layer.path : undefined });
    });
  }

  const allLocks = [...locksById.values()].flat();
  problems.push(...maxDaysProblems(layers, allLocks), ...inlineProblems(layers, allLocks));
  if (problems.length > 0) throw new ConfigurationError(problems[0]!, problems);

  const declared = layers.flatMap((layer) => (layer.doc.paths?.exclude ?? []).map((glob) => ({ glob, layer })));
  const unique = (globs: string[]) => [...new Set(globs)];
  const maxDays = layers.map((l) => l.doc['max-exception-days']).filter((n): n is number => n !== undefined);
  return {
    rules,
    exceptions,
    maxExceptionDays: Math.min(DEFAULT_MAX_EXCEPTION_DAYS, ...maxDays),
    inlineExceptions: layers.reduce<boolean>((on, l) => (l.doc['inline-exceptions'] === undefined ? on : l.doc['inline-exceptions'] === 'allowed'), false),
    exclude: unique(declared.map((d) => d.glob)),
    // An exclusion from outside the locking policies would take files away from the locked rule: it does not apply to it.
    excludeFor: (ruleId) => {
      const locks = locksById.get(ruleId) ?? [];
      return unique(declared.filter((d) => locks.every((l) => l.own.has(d.layer))).map((d) => d.glob));
    },
  };
}
