import type { Rule, TightenKind } from '../checks/rule.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const includesValue = (list: unknown[], v: unknown): boolean => list.some((x) => same(x, v));
const show = (values: unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

export function tightenKind(rule: Rule, key: string): TightenKind {
  return rule.tighten[key] ?? 'fixed';
}

/**
 * What a locked rule's parameter stands at when the locking policy leaves it
 * unset: the documented default, or for a `subset` list (signers, ignores,
 * allowed globals) the empty list, since unset means "none trusted/ignored".
 */
export function unsetParam(rule: Rule, key: string): unknown {
  const props = (rule.paramsSchema as { properties?: Record<string, { default?: unknown }> }).properties;
  const d = props?.[key]?.default;
  if (d !== undefined) return d;
  return tightenKind(rule, key) === 'subset' ? [] : undefined;
}

type ListMap = Record<string, unknown[]>;
const isListMap = (v: unknown): v is ListMap => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(Array.isArray);

/** A `glob → list` map loosened: a glob dropped, or (allow) a value added / (deny) a value dropped under one. */
function mapLoosening(allow: boolean, prev: ListMap, next: ListMap): string | undefined {
  for (const [glob, before] of Object.entries(prev)) {
    const after = next[glob];
    if (after === undefined) return `drops ${JSON.stringify(glob)}`;
    const wider = allow ? after.filter((v) => !includesValue(before, v)) : before.filter((v) => !includesValue(after, v));
    if (wider.length) return `${allow ? 'adds' : 'drops'} ${show(wider)} under ${JSON.stringify(glob)}`;
  }
  return undefined;
}

function mapJoin(allow: boolean, a: ListMap, b: ListMap): ListMap {
  const out: ListMap = { ...a };
  for (const [glob, values] of Object.entries(b)) {
    const mine = out[glob];
    out[glob] = mine === undefined ? values : allow ? mine.filter((v) => includesValue(values, v)) : [...mine, ...values.filter((v) => !includesValue(mine, v))];
  }
  return out;
}

/** Why `next` loosens `prev` under a TightenKind, or undefined when it does not. */
export function loosening(kind: TightenKind, prev: unknown, next: unknown): string | undefined {
  switch (kind) {
    case 'superset':
      if (Array.isArray(prev) && Array.isArray(next)) {
        const dropped = prev.filter((v) => !includesValue(next, v));
        return dropped.length ? `drops ${show(dropped)}` : undefined;
      }
      return same(prev, next) ? undefined : 'changes it';
    case 'subset':
    case 'allow-list':
      if (Array.isArray(prev) && Array.isArray(next)) {
        if (kind === 'allow-list' && prev.length === 0) return undefined;
        if (kind === 'allow-list' && next.length === 0) return 'empties the allow-list (which allows anything)';
        const added = next.filter((v) => !includesValue(prev, v));
        return added.length ? `adds ${show(added)}` : undefined;
      }
      return same(prev, next) ? undefined : 'changes it';
    case 'true-stays':
      return prev === true && next !== true ? 'turns it off' : undefined;
    case 'false-stays':
      return prev === false && next !== false ? 'turns it on' : undefined;
    case 'max':
      return typeof prev === 'number' && typeof next === 'number' && next > prev ? `raises it from ${prev} to ${next}` : undefined;
    case 'allow-map':
    case 'deny-map':
      return isListMap(prev) && isListMap(next) ? mapLoosening(kind === 'allow-map', prev, next) : same(prev, next) ? undefined : 'changes it';
    case 'fixed':
      return same(prev, next) ? undefined : 'changes it';
  }
}

/**
 * The stricter of two values that each satisfy a lock, so that tightening from
 * any layer survives whatever its position in the merge order. `fixed` values
 * are equal by then (a difference is a loosening), so the later one is kept.
 */
export function tighter(kind: TightenKind, a: unknown, b: unknown): unknown {
  switch (kind) {
    case 'superset':
      return Array.isArray(a) && Array.isArray(b) ? [...a, ...b.filter((v) => !includesValue(a, v))] : b;
    case 'subset':
      return Array.isArray(a) && Array.isArray(b) ? a.filter((v) => includesValue(b, v)) : b;
    case 'allow-list': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length === 0) return b;
      if (b.length === 0) return a;
      const both = a.filter((v) => includesValue(b, v));
      // Disjoint allow-lists cannot be intersected (empty means "anything"): keep the later one.
      return both.length ? both : b;
    }
    case 'true-stays':
      return a === true || b === true ? true : b;
    case 'false-stays':
      return a === false || b === false ? false : b;
    case 'max':
      return typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : b;
    case 'allow-map':
    case 'deny-map':
      return isListMap(a) && isListMap(b) ? mapJoin(kind === 'allow-map', a, b) : b;
    case 'fixed':
      return b;
  }
}
