import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { LoadedYaml, YamlPath } from '../formats/yaml.js';
import { globProblem } from './glob.js';
import { policyFormats } from './policy-formats.js';
import { precompiled } from './precompiled.js';
import { buildPolicySchema } from './schema.js';
import type { PolicyDoc } from './types.js';

/** How policy schemas are compiled, at run time and by the build alike. */
export const POLICY_AJV_OPTIONS: Options = { allErrors: true, strict: true, strictTypes: false, strictTuples: false, verbose: true, discriminator: true };

const compiled = new WeakMap<readonly Rule[], ValidateFunction>();

/** An ajv instance with the formats policies use (date, glob, …). */
export function policyAjv(): Ajv {
  return new Ajv({ ...POLICY_AJV_OPTIONS, formats: policyFormats });
}

/** What identifies a schema to the precompiled validator: its serialisation's SHA-256. */
export function schemaDigest(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

function validatorFor(rules: readonly Rule[]): ValidateFunction {
  let v = compiled.get(rules);
  if (!v) {
    const schema = buildPolicySchema(rules);
    // The build's validator serves only the schema it was compiled from; any other rule set is compiled here.
    v = precompiled?.schemaDigest === schemaDigest(schema) ? precompiled.validate : policyAjv().compile(schema);
    compiled.set(rules, v);
  }
  return v;
}

/** `/rules/model-signing/signers/0` → ['rules', 'model-signing', 'signers', 0], following the value to tell indexes from keys. */
function toPath(pointer: string, root: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key: string | number = Array.isArray(cur) && /^\d+$/.test(seg) ? Number(seg) : seg;
    out.push(key);
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[key] : undefined;
  }
  return out;
}

export function dottedKey(path: YamlPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** ` (did you mean "x"?)` when a candidate is close, else ` (expected one of: …)` (or '' with no candidates). */
function suggestOrList(input: string, candidates: readonly string[], label = 'expected one of'): string {
  const hint = didYouMean(input, candidates);
  if (hint) return hint;
  return candidates.length ? ` (${label}: ${candidates.join(', ')})` : '';
}

/** `model-signing/unsigned` or `Unsigned` as a `code-levels` key: the sub-code it was meant to be. */
function subCodeHint(name: string): string {
  const code = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  return /^[a-z0-9][a-z0-9-]*$/.test(code) ? ` (did you mean "${code}"?)` : '';
}

function describe(e: ErrorObject, rules: readonly Rule[]): { extra?: string; message: string; atKey?: boolean } {
  const p = e.params as Record<string, unknown>;
  if (e.schemaPath.includes('/propertyNames/') && typeof e.data === 'string') {
    // A mapping key that is not a valid name (only `code-levels` constrains its keys).
    const name = e.data;
    if (e.instancePath.endsWith('/code-levels')) {
      return { extra: name, atKey: true, message: `is not a sub-code: write the code alone, in lowercase, without the rule's prefix${subCodeHint(name)}` };
    }
    // Glob-keyed maps (allow-formats): say what is wrong with the glob.
    if (e.keyword === 'format' && p.format === 'glob') return { extra: name, atKey: true, message: `is not a valid glob: it ${globProblem(name) ?? 'does not parse'}` };
    return { extra: name, atKey: true, message: `is not a valid name (${e.message ?? e.keyword})` };
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      if (e.instancePath === '/rules') {
        return { extra: key, atKey: true, message: `unknown rule id${suggestOrList(key, rules.map((r) => r.id), 'known rules')}` };
      }
      const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
      return { extra: key, atKey: true, message: `unknown key${suggestOrList(key, allowed)}` };
    }
    case 'required':
      return { extra: String(p.missingProperty), message: 'is required' };
    case 'type':
      return { message: `must be ${p.type === 'array' ? 'a list' : p.type === 'object' ? 'a mapping' : `a ${String(p.type)}`}` };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      return { message: `must be one of: ${allowed.join(', ')}${typeof e.data === 'string' ? didYouMean(e.data, allowed) : ''}` };
    }
    case 'discriminator': {
      if (p.error !== 'mapping') return { extra: String(p.tag), message: 'is required' };
      const tag = String(p.tag);
      const value = (e.data as Record<string, unknown>)?.[tag];
      const branches = ((e.parentSchema as { oneOf?: { properties?: Record<string, { const?: unknown }> }[] })?.oneOf ?? [])
        .map((b) => b.properties?.[tag]?.const)
        .filter((c): c is string => typeof c === 'string');
      return { message: `unknown ${tag} ${JSON.stringify(value)}${suggestOrList(String(value), branches)}` };
    }
    case 'const':
      return { message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'format':
      if (p.format === 'date') return { message: 'must be a valid date YYYY-MM-DD' };
      if (p.format === 'glob') return { message: `invalid glob: ${globProblem(String(e.data)) ?? 'not a glob'}` };
      if (p.format === 'uri') return { message: 'must be a URL' };
      return { message: `must be a valid ${String(p.format)}` };
    case 'pattern': {
      const hint = (e.parentSchema as { description?: string } | undefined)?.description;
      return { message: `does not match ${String(p.pattern)}${hint ? ` (${hint})` : ''}` };
    }
    default:
      return { message: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * `code-levels` keys a rule does not report would silently do nothing: an
 * error, with the closest code, for every rule that lists its codes.
 */
function unknownCodes(value: Record<string, unknown>, yaml: LoadedYaml, file: string, rules: readonly Rule[]): { line: number; column: number; text: string }[] {
  const out: { line: number; column: number; text: string }[] = [];
  const configured = value.rules;
  if (configured === null || typeof configured !== 'object') return out;
  for (const rule of rules) {
    const cfg = (configured as Record<string, unknown>)[rule.id];
    const levels = cfg !== null && typeof cfg === 'object' ? (cfg as Record<string, unknown>)['code-levels'] : undefined;
    if (!rule.codes || levels === null || typeof levels !== 'object') continue;
    for (const code of Object.keys(levels as object)) {
      // A malformed key already has its own schema error.
      if (rule.codes.includes(code) || !/^[a-z0-9][a-z0-9-]*$/.test(code)) continue;
      const path = ['rules', rule.id, 'code-levels', code];
      const pos = yaml.locate(path, { key: true });
      out.push({ ...pos, text: formatLocated(file, pos.line, pos.column, dottedKey(path), `${rule.id} reports no finding with this code, so the level would never apply${suggestOrList(code, rule.codes, 'its codes')}`) });
    }
  }
  return out;
}

/** Schema errors as `file:line:col key: message`, combinator noise dropped (policies, and the baseline file). */
export function locatedSchemaErrors(errors: readonly ErrorObject[], value: unknown, yaml: LoadedYaml, file: string, rules: readonly Rule[]): { line: number; column: number; text: string }[] {
  const out: { line: number; column: number; text: string }[] = [];
  const seen = new Set<string>();
  const hasSpecific = (e: ErrorObject) => errors.some((o) => o !== e && !NOISE.has(o.keyword) && o.instancePath.startsWith(e.instancePath));
  for (const e of errors) {
    if (NOISE.has(e.keyword) && hasSpecific(e)) continue;
    const base = toPath(e.instancePath, value);
    const { extra, message, atKey } = describe(e, rules);
    const path = extra !== undefined ? [...base, extra] : base;
    const id = `${dottedKey(path)}|${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const pos = yaml.locate(atKey ? path : base, { key: atKey === true });
    out.push({ ...pos, text: formatLocated(file, pos.line, pos.column, dottedKey(path), message) });
  }
  return out;
}

/** Combinator errors only summarise the branch errors that follow them. */
const NOISE = new Set(['oneOf', 'anyOf', 'if', 'not', 'propertyNames']);

/**
 * Validates one parsed policy document against the schema built from the
 * registered rules; every problem is reported as `file:line:col key: message`.
 */
export function validatePolicy(value: unknown, yaml: LoadedYaml, file: string, rules: readonly Rule[]): PolicyDoc {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigurationError(formatLocated(file, 1, 1, '', 'a policy must be a YAML mapping with `version: 1`'));
  }
  const validate = validatorFor(rules);
  const valid = validate(value);
  const messages = unknownCodes(value as Record<string, unknown>, yaml, file, rules);
  if (valid && messages.length === 0) return value as PolicyDoc;
  messages.push(...locatedSchemaErrors(valid ? [] : (validate.errors ?? []), value, yaml, file, rules));
  messages.sort((a, b) => a.line - b.line || a.column - b.column);
  const texts = messages.map((m) => m.text);
  throw new ConfigurationError(texts[0] ?? `${file}: invalid policy`, texts);
}
