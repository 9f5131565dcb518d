import type { Rule } from '../checks/rule.js';
import { formatLocated } from '../core/errors.js';
import { LEVEL_RANK, type RuleLevel } from '../core/types.js';
import { loosening, tightenKind, tighter, unsetParam } from './tighten.js';
import { COMMON_RULE_KEYS, type ExceptionsSetting, type PolicyLayer, type RuleConfig, type RuleSettings } from './types.js';
import { dottedKey } from './validate.js';

/** Keys every rule takes; the rest of a rule's settings are its parameters. */
const COMMON_KEYS: ReadonlySet<string> = new Set(COMMON_RULE_KEYS);

/**
 * A layer's `locked: true` on one rule. What the locking policy means on its
 * own (it and everything it extends, merged) is a floor: no other layer, before
 * or after it in the merge order, may go below it.
 */
export interface Lock {
  layer: PolicyLayer;
  /** The locking layer and every layer it extends, directly or not. */
  own: ReadonlySet<PolicyLayer>;
  floor: RuleSettings;
  /** Only the locking layer's own `exceptions: allowed` opens the rule to exceptions; nothing inherited does. */
  allowsExceptions: boolean;
  /** `exceptions: {allowed: true, codes: [...]}`: the only sub-codes other layers may waive. */
  codes?: string[];
}

/** Whether an `exceptions` setting opens the rule to exceptions. */
export const allowsExceptions = (s: ExceptionsSetting | undefined): boolean => s === 'allowed' || (typeof s === 'object' && s !== null && s.allowed === true);

/** The layers a policy resolves to by itself: its extends depth first, then itself (as if it were the root). */
export function ownResolution(layer: PolicyLayer): PolicyLayer[] {
  const out: PolicyLayer[] = [];
  const seen = new Set<PolicyLayer>();
  const visit = (l: PolicyLayer) => {
    if (seen.has(l)) return;
    seen.add(l);
    for (const child of l.extended ?? []) visit(child);
    out.push(l);
  };
  visit(layer);
  return out;
}

/** Key by key override in merge order (DESIGN §3, "Merge order"). */
export function overrideMerge(rule: Rule, cfgs: readonly RuleConfig[]): RuleSettings {
  const s: RuleSettings = { level: rule.defaultLevel, codeLevels: {}, params: {} };
  for (const cfg of cfgs) {
    if (cfg.level !== undefined) s.level = cfg.level;
    if (cfg['enforce-from'] !== undefined) s.enforceFrom = cfg['enforce-from'];
    Object.assign(s.codeLevels, cfg['code-levels'] ?? {});
    for (const [key, value] of Object.entries(cfg)) if (!COMMON_KEYS.has(key)) s.params[key] = value;
  }
  return s;
}

export function locksOf(ruleId: string, rule: Rule, layers: readonly PolicyLayer[]): Lock[] {
  return layers
    .filter((l) => l.doc.rules?.[ruleId]?.locked === true)
    .map((layer) => {
      const own = ownResolution(layer);
      const cfgs = own.map((l) => l.doc.rules?.[ruleId]).filter((c): c is RuleConfig => c !== undefined);
      const setting = layer.doc.rules![ruleId]!.exceptions;
      const codes = typeof setting === 'object' && allowsExceptions(setting) ? setting.codes : undefined;
      return { layer, own: new Set(own), floor: overrideMerge(rule, cfgs), allowsExceptions: allowsExceptions(setting), ...(codes ? { codes } : {}) };
    });
}

const maxLevel = (a: RuleLevel, b: RuleLevel): RuleLevel => (LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a);

/** `acc` tightened by `b`; `complete` says `b` is a whole floor (its unset keys stand at their defaults), not one layer's partial settings. */
function join(rule: Rule, acc: RuleSettings, b: Partial<RuleSettings> & Pick<RuleSettings, 'codeLevels' | 'params'>, complete: boolean): RuleSettings {
  const codeLevels: Record<string, RuleLevel> = { ...acc.codeLevels };
  for (const code of Object.keys(b.codeLevels)) codeLevels[code] = maxLevel(acc.codeLevels[code] ?? acc.level, b.codeLevels[code]!);
  if (complete && b.level !== undefined) {
    // A code the other floor leaves to its level is held at that level.
    for (const code of Object.keys(acc.codeLevels)) if (!(code in b.codeLevels)) codeLevels[code] = maxLevel(codeLevels[code]!, b.level);
  }
  let enforceFrom = acc.enforceFrom;
  if (complete) enforceFrom = acc.enforceFrom === undefined || b.enforceFrom === undefined ? undefined : acc.enforceFrom < b.enforceFrom ? acc.enforceFrom : b.enforceFrom;
  else if (b.enforceFrom !== undefined && acc.enforceFrom !== undefined && b.enforceFrom < acc.enforceFrom) enforceFrom = b.enforceFrom;
  const params: Record<string, unknown> = { ...acc.params };
  for (const [key, value] of Object.entries(b.params)) {
    const before = key in acc.params ? acc.params[key] : unsetParam(rule, key);
    params[key] = before === undefined ? value : tighter(tightenKind(rule, key), before, value);
  }
  if (complete) {
    for (const key of Object.keys(acc.params)) {
      if (key in b.params) continue;
      const other = unsetParam(rule, key);
      if (other !== undefined) params[key] = tighter(tightenKind(rule, key), acc.params[key], other);
    }
  }
  return { level: b.level !== undefined ? maxLevel(acc.level, b.level) : acc.level, enforceFrom, codeLevels, params };
}

function partial(cfg: RuleConfig): Partial<RuleSettings> & Pick<RuleSettings, 'codeLevels' | 'params'> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) if (!COMMON_KEYS.has(key)) params[key] = value;
  return { level: cfg.level, enforceFrom: cfg['enforce-from'], codeLevels: cfg['code-levels'] ?? {}, params };
}

/**
 * Settings of a locked rule: every lock's floor, tightened by every layer
 * outside the locking policies (wherever it sits in the merge order).
 * Inside a locking policy the usual override applies: that is what it locked.
 */
export function lockedSettings(rule: Rule, locks: readonly Lock[], others: readonly RuleConfig[]): RuleSettings {
  let acc: RuleSettings = { ...locks[0]!.floor, codeLevels: { ...locks[0]!.floor.codeLevels }, params: { ...locks[0]!.floor.params } };
  for (const lock of locks.slice(1)) acc = join(rule, acc, lock.floor, true);
  for (const cfg of others) acc = join(rule, acc, partial(cfg), false);
  return acc;
}

/**
 * Every way `layer`'s settings for a locked rule go below the lock's floor, as
 * located messages naming both files. A layer that locks the rule too is only
 * held to `fixed` parameters and allow-lists: the other keys of two locks are
 * joined, the stricter winning, so that two organisation policies can lock the
 * same rule (and a layer cannot slip past a lock by locking the rule itself).
 */
export function looseningsOf(rule: Rule, lock: Lock, layer: PolicyLayer, cfg: RuleConfig): string[] {
  const id = rule.id;
  const floor = lock.floor;
  const out: string[] = [];
  const lockedLine = lock.layer.yaml.locate(['rules', id, 'locked'], { key: true }).line;
  const complain = (key: (string | number)[], what: string) => {
    const pos = layer.yaml.locate(['rules', id, ...key], { key: true });
    out.push(
      formatLocated(
        layer.name,
        pos.line,
        pos.column,
        dottedKey(['rules', id, ...key]),
        `${what}, but ${lock.layer.name} locks rule ${id} (line ${lockedLine}): other policy files may tighten a locked rule, never loosen it; remove this setting, or ask the owners of that policy to change the lock`,
      ),
    );
  };
  const alsoLocks = cfg.locked === true;
  if (!alsoLocks) {
    if (cfg.level !== undefined && LEVEL_RANK[cfg.level] < LEVEL_RANK[floor.level]) complain(['level'], `lowers the level from ${floor.level} to ${cfg.level}`);
    const from = cfg['enforce-from'];
    if (from !== undefined && (floor.enforceFrom === undefined || from > floor.enforceFrom)) {
      complain(['enforce-from'], floor.enforceFrom === undefined ? `postpones enforcement to ${from} (the lock enforces it now)` : `postpones enforcement from ${floor.enforceFrom} to ${from}`);
    }
    if (cfg.locked === false) complain(['locked'], 'unlocks it');
    if (allowsExceptions(cfg.exceptions) && !lock.allowsExceptions) complain(['exceptions'], 'allows exceptions');
    else if (allowsExceptions(cfg.exceptions) && lock.codes) {
      const wider = typeof cfg.exceptions === 'object' ? (cfg.exceptions.codes ?? ['any code']).filter((c) => !lock.codes!.includes(c)) : ['any code'];
      if (wider.length > 0) complain(['exceptions'], `allows exceptions for ${wider.join(', ')} (the lock allows them for ${lock.codes.join(', ')} only)`);
    }
    for (const [code, lvl] of Object.entries(cfg['code-levels'] ?? {})) {
      const before = floor.codeLevels[code] ?? floor.level;
      if (LEVEL_RANK[lvl] < LEVEL_RANK[before]) complain(['code-levels', code], `lowers ${code} from ${before} to ${lvl}`);
    }
  }
  for (const [key, value] of Object.entries(cfg)) {
    if (COMMON_KEYS.has(key)) continue;
    const kind = tightenKind(rule, key);
    // Two fixed values, or two disjoint allow-lists, cannot be joined into something stricter than both.
    if (alsoLocks && kind !== 'fixed' && kind !== 'allow-list') continue;
    const before = key in floor.params ? floor.params[key] : unsetParam(rule, key);
    if (before === undefined) {
      // Left at a default the schema does not spell out: a fixed parameter may still not be changed from it.
      if (kind === 'fixed') complain([key], `${key} changes it from the rule's default`);
      continue;
    }
    const why = loosening(kind, before, value);
    if (why) complain([key], `${key} ${why}`);
  }
  return out;
}
