import type { Rule, TightenKind } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import { LEVEL_RANK } from '../core/types.js';
import { dottedKey } from './validate.js';
import type { PolicyLayer, ResolvedException, ResolvedRule, RuleConfig } from './types.js';

const COMMON = new Set(['level', 'enforce-from', 'locked', 'exceptions', 'code-levels']);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const includesValue = (list: unknown[], v: unknown): boolean => list.some((x) => same(x, v));

function paramDefault(rule: Rule, key: string): unknown {
  const props = (rule.paramsSchema as { properties?: Record<string, { default?: unknown }> }).properties;
  return props?.[key]?.default;
}

/** Why `next` loosens `prev` under a TightenKind, or undefined when it does not. */
function loosening(kind: TightenKind, prev: unknown, next: unknown): string | undefined {
  switch (kind) {
    case 'superset':
      if (Array.isArray(prev) && Array.isArray(next)) {
        const dropped = prev.filter((v) => !includesValue(next, v));
        return dropped.length ? `drops ${dropped.map((d) => JSON.stringify(d)).join(', ')}` : undefined;
      }
      return same(prev, next) ? undefined : 'changes it';
    case 'subset':
    case 'allow-list':
      if (Array.isArray(prev) && Array.isArray(next)) {
        if (kind === 'allow-list' && prev.length === 0) return undefined;
        if (kind === 'allow-list' && next.length === 0) return 'empties the allow-list (which allows anything)';
        const added = next.filter((v) => !includesValue(prev, v));
        return added.length ? `adds ${added.map((d) => JSON.stringify(d)).join(', ')}` : undefined;
      }
      return same(prev, next) ? undefined : 'changes it';
    case 'true-stays':
      return prev === true && next !== true ? 'turns it off' : undefined;
    case 'false-stays':
      return prev === false && next !== false ? 'turns it on' : undefined;
    case 'max':
      return typeof prev === 'number' && typeof next === 'number' && next > prev ? `raises it from ${prev} to ${next}` : undefined;
    case 'fixed':
      return same(prev, next) ? undefined : 'changes it';
  }
}

function locateIn(layer: PolicyLayer, path: (string | number)[]): { line: number; column: number } {
  return layer.yaml.locate(path, { key: true });
}

/**
 * Merges layers in order (DESIGN §3): a later layer overrides an earlier one key
 * by key inside a rule; a locked rule may only be tightened, and a loosening is
 * a configuration error that names both files.
 */
export function mergeLayers(layers: readonly PolicyLayer[], registry: readonly Rule[]): {
  rules: Map<string, ResolvedRule>;
  exceptions: ResolvedException[];
  maxExceptionDays: number;
  /** Exclusions, each with the index of the layer that declared it. */
  exclude: { glob: string; layer: number }[];
} {
  const byId = new Map(registry.map((r) => [r.id, r]));
  const merged = new Map<string, ResolvedRule>();
  const problems: string[] = [];
  const exceptions: ResolvedException[] = [];
  const exclude: { glob: string; layer: number }[] = [];
  let maxExceptionDays = 365;

  layers.forEach((layer, layerIndex) => {
    const doc = layer.doc;
    for (const glob of doc.paths?.exclude ?? []) exclude.push({ glob, layer: layerIndex });
    if (doc['max-exception-days'] !== undefined) maxExceptionDays = Math.min(maxExceptionDays, doc['max-exception-days']);
    for (const [id, cfg] of Object.entries(doc.rules ?? {}) as [string, RuleConfig][]) {
      const rule = byId.get(id);
      if (!rule) continue; // schema validation already rejected unknown ids
      const prev = merged.get(id);
      const where = (key: (string | number)[]) => {
        const pos = locateIn(layer, ['rules', id, ...key]);
        return { ...pos, key: dottedKey(['rules', id, ...key]) };
      };
      const complain = (key: (string | number)[], what: string) => {
        const w = where(key);
        problems.push(formatLocated(layer.name, w.line, w.column, w.key, `${what}, but ${prev?.lockedBy} locks rule ${id}: a policy that extends it may tighten the rule, not loosen it`));
      };
      if (prev?.lockedBy) {
        if (cfg.level !== undefined && LEVEL_RANK[cfg.level] < LEVEL_RANK[prev.level]) complain(['level'], `lowers the level from ${prev.level} to ${cfg.level}`);
        if (cfg['enforce-from'] !== undefined && (prev.enforceFrom === undefined || cfg['enforce-from'] > prev.enforceFrom))
          complain(['enforce-from'], `postpones enforcement to ${cfg['enforce-from']}`);
        if (cfg.locked === false) complain(['locked'], 'unlocks it');
        if (cfg.exceptions === 'allowed' && !prev.exceptionsAllowed) complain(['exceptions'], 'allows exceptions');
        for (const [code, lvl] of Object.entries(cfg['code-levels'] ?? {})) {
          const before = prev.codeLevels[code] ?? prev.level;
          if (LEVEL_RANK[lvl] < LEVEL_RANK[before]) complain(['code-levels', code], `lowers ${code} from ${before} to ${lvl}`);
        }
        for (const [key, value] of Object.entries(cfg)) {
          if (COMMON.has(key)) continue;
          // A parameter the locking layer left unset stands at the rule's documented default.
          const before = key in prev.params ? prev.params[key] : paramDefault(rule, key);
          if (before === undefined) continue;
          const why = loosening(rule.tighten[key] ?? 'fixed', before, value);
          if (why) complain([key], `${key} ${why}`);
        }
      }
      const params: Record<string, unknown> = { ...(prev?.params ?? {}) };
      for (const [key, value] of Object.entries(cfg)) if (!COMMON.has(key)) params[key] = value;
      const lockedBy = prev?.lockedBy ?? (cfg.locked ? layer.name : undefined);
      merged.set(id, {
        id,
        level: cfg.level ?? prev?.level ?? rule.defaultLevel,
        enforceFrom: cfg['enforce-from'] ?? prev?.enforceFrom,
        codeLevels: { ...(prev?.codeLevels ?? {}), ...(cfg['code-levels'] ?? {}) },
        lockedBy,
        // Only the locking layer (or a layer before the lock) decides whether exceptions are allowed.
        exceptionsAllowed: prev?.lockedBy ? prev.exceptionsAllowed : cfg.exceptions === 'allowed' || (cfg.exceptions === undefined && (prev?.exceptionsAllowed ?? !cfg.locked)),
        params,
        layers: [...(prev?.layers ?? []), layer.name],
      });
    }
    (doc.exceptions ?? []).forEach((ex, i) => {
      const pos = layer.yaml.locate(['exceptions', i]);
      const rule = merged.get(ex.rule);
      if (!byId.has(ex.rule)) {
        const p = layer.yaml.locate(['exceptions', i, 'rule']);
        problems.push(formatLocated(layer.name, p.line, p.column, dottedKey(['exceptions', i, 'rule']), `unknown rule id ${JSON.stringify(ex.rule)}`));
      } else if (rule?.lockedBy && rule.lockedBy !== layer.name && !rule.exceptionsAllowed) {
        problems.push(
          formatLocated(layer.name, pos.line, pos.column, dottedKey(['exceptions', i]), `${rule.lockedBy} locks rule ${ex.rule} without \`exceptions: allowed\`, so exceptions to it cannot be added here`),
        );
      }
      exceptions.push({ ...ex, layer: layer.name, index: i, line: pos.line, column: pos.column, localPath: layer.origin.kind === 'local' ? layer.path : undefined });
    });
  });
  if (problems.length > 0) throw new ConfigurationError(problems[0]!, problems);
  return { rules: merged, exceptions, maxExceptionDays, exclude };
}
