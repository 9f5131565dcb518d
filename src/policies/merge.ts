import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { lockedSettings, locksOf, looseningsOf, overrideMerge, type Lock } from './lock.js';
import { tamperingCodes } from './tampering.js';
import type { ExceptionDecl, PolicyLayer, ResolvedException, ResolvedRule, RuleConfig } from './types.js';
import { dottedKey } from './validate.js';

export const DEFAULT_MAX_EXCEPTION_DAYS = 365;

export interface MergedPolicy {
  /** The locks of each locked rule, for exceptions declared outside the policy layers (the baseline). */
  locksById: Map<string, Lock[]>;
  rules: Map<string, ResolvedRule>;
  exceptions: ResolvedException[];
  maxExceptionDays: number;
  inlineExceptions: boolean;
  /** Every `paths.exclude` glob of every layer. */
  exclude: string[];
  excludeFor(ruleId: string): string[];
  testsFor(ruleId: string): string[];
}

/** Where test code lives when no policy says otherwise: pytest's and unittest's usual layouts. */
export const DEFAULT_TEST_GLOBS: readonly string[] = ['tests/**', 'test/**', '**/tests/**', '**/test/**', '**/test_*.py', '**/*_test.py', '**/conftest.py'];

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
      ...(locks.some((l) => l.codes) ? { waivableCodes: intersect(locks.flatMap((l) => (l.codes ? [l.codes] : []))) } : {}),
      layers: names,
    });
  }

  const exceptions: ResolvedException[] = [];
  for (const layer of layers) {
    (layer.doc.exceptions ?? []).forEach((ex, i) => {
      const pos = layer.yaml.locate(['exceptions', i]);
      const resolved = resolveException(ex, { name: layer.name, path: ['exceptions', i], yaml: layer.yaml, layer }, byId, locksById, problems);
      exceptions.push({ ...resolved, source: 'policy', layer: layer.name, index: i, line: pos.line, column: pos.column, localPath: layer.origin.kind === 'local' ? layer.path : undefined });
    });
  }

  const allLocks = [...locksById.values()].flat();
  problems.push(...maxDaysProblems(layers, allLocks), ...inlineProblems(layers, allLocks));
  if (problems.length > 0) throw new ConfigurationError(problems[0]!, problems);

  const declared = layers.flatMap((layer) => (layer.doc.paths?.exclude ?? []).map((glob) => ({ glob, layer })));
  const unique = (globs: string[]) => [...new Set(globs)];
  const maxDays = layers.map((l) => l.doc['max-exception-days']).filter((n): n is number => n !== undefined);
  return {
    locksById,
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
    // Test globs lower levels, so a locked rule likewise only honours those of the policies that lock it.
    testsFor: (ruleId) => {
      const locks = locksById.get(ruleId) ?? [];
      const setting = layers.filter((l) => l.doc.paths?.tests !== undefined && locks.every((k) => k.own.has(l)));
      return setting.length === 0 ? [...DEFAULT_TEST_GLOBS] : unique(setting.flatMap((l) => l.doc.paths!.tests!));
    },
  };
}

const intersect = (lists: readonly (readonly string[])[]): string[] => lists[0]!.filter((c) => lists.every((l) => l.includes(c)));

/** Where an exception was written, for located messages. */
export interface ExceptionSite {
  name: string;
  path: (string | number)[];
  yaml: PolicyLayer['yaml'];
  /** The declaring policy layer; undefined for a baseline entry (outside every lock). */
  layer?: PolicyLayer;
}

/**
 * Reads `rule: model-signing/unsigned` as the rule plus `codes: [unsigned]`,
 * checks the codes and the locks, and works out what the exception may not
 * waive: a path-only exception never covers a tampering code, and an exception
 * from outside a lock covers only what the lock lists (tampering codes only
 * when listed). Problems are pushed as located messages.
 */
export function resolveException(
  decl: ExceptionDecl,
  site: ExceptionSite,
  byId: ReadonlyMap<string, Rule>,
  locksById: ReadonlyMap<string, Lock[]>,
  problems: string[],
): Omit<ResolvedException, 'source' | 'layer' | 'index' | 'line' | 'column' | 'localPath'> {
  const at = (key: (string | number)[], message: string) => {
    const p = site.yaml.locate([...site.path, ...key]);
    problems.push(formatLocated(site.name, p.line, p.column, dottedKey([...site.path, ...key]), message));
  };
  let ex: ExceptionDecl = decl;
  const slash = decl.rule.indexOf('/');
  if (slash > 0 && byId.has(decl.rule.slice(0, slash))) {
    const code = decl.rule.slice(slash + 1);
    if (decl.codes) at(['rule'], `names the code ${code} and the exception also lists codes: write either rule: ${decl.rule.slice(0, slash)} with codes, or the rule/code shorthand alone`);
    ex = { ...decl, rule: decl.rule.slice(0, slash), codes: [code] };
  }
  const rule = byId.get(ex.rule);
  if (!rule) {
    at(['rule'], `unknown rule id ${JSON.stringify(decl.rule)}${didYouMean(ex.rule, byId.keys())}`);
    return ex;
  }
  for (const code of ex.codes ?? []) {
    if (rule.codes && !rule.codes.includes(code)) at(['codes'], `${rule.id} reports no finding with the code ${JSON.stringify(code)}, so the exception would never apply${didYouMean(code, rule.codes) || ` (its codes: ${rule.codes.join(', ')})`}`);
  }
  const tampering = tamperingCodes(rule.id);
  const outside = (locksById.get(rule.id) ?? []).filter((l) => !(site.layer && l.own.has(site.layer)));
  let withheld: string[] = ex.codes || ex.fingerprints ? [] : [...tampering];
  let onlyCodes: string[] | undefined;
  for (const lock of outside) {
    if (!lock.allowsExceptions) {
      at(
        [],
        `${lock.layer.name} locks rule ${rule.id} without \`exceptions: allowed\`, so exceptions to it cannot be added here; fix the findings, or ask the owners of ${lock.layer.name} to allow exceptions to it`,
      );
      continue;
    }
    const listed = lock.codes ?? [];
    onlyCodes = lock.codes ? (onlyCodes ? onlyCodes.filter((c) => listed.includes(c)) : [...listed]) : onlyCodes;
    withheld = [...new Set([...withheld, ...tampering.filter((c) => !listed.includes(c))])];
    const refused = (ex.codes ?? []).filter((c) => (lock.codes ? !lock.codes.includes(c) : tampering.includes(c)));
    if (refused.length > 0) {
      const allowed = lock.codes ? `it allows exceptions for ${lock.codes.join(', ')} only` : `${refused.join(', ')} ${refused.length === 1 ? 'is a tampering code' : 'are tampering codes'}, which only a lock that lists ${refused.length === 1 ? 'it' : 'them'} in exceptions.codes lets another policy waive`;
      at(['codes'], `${lock.layer.name} locks rule ${rule.id}, and ${allowed}; fix the findings, or ask the owners of ${lock.layer.name}`);
    }
  }
  return { ...ex, ...(withheld.length ? { withheld } : {}), ...(onlyCodes ? { onlyCodes } : {}) };
}
