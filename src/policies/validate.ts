import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import type { LoadedYaml, YamlPath } from '../formats/yaml.js';
import { globProblem } from './glob.js';
import { buildPolicySchema } from './schema.js';
import type { PolicyDoc } from './types.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (ajv: Ajv, formats: string[]) => Ajv;

const compiled = new WeakMap<readonly Rule[], ValidateFunction>();

function validatorFor(rules: readonly Rule[]): ValidateFunction {
  let v = compiled.get(rules);
  if (!v) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, verbose: true, discriminator: true });
    addFormats(ajv, ['date', 'uri', 'email', 'hostname']);
    ajv.addFormat('glob', { type: 'string', validate: (s: string) => globProblem(s) === undefined });
    v = ajv.compile(buildPolicySchema(rules));
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

function describe(e: ErrorObject, rules: readonly Rule[]): { extra?: string; message: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      if (e.instancePath === '/rules') {
        return { extra: key, message: `unknown rule id (known rules: ${rules.map((r) => r.id).join(', ')})` };
      }
      const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
      return { extra: key, message: `unknown key${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}` };
    }
    case 'required':
      return { extra: String(p.missingProperty), message: 'is required' };
    case 'type':
      return { message: `must be ${p.type === 'array' ? 'a list' : p.type === 'object' ? 'a mapping' : `a ${String(p.type)}`}` };
    case 'enum':
      return { message: `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'discriminator':
      return p.error === 'mapping'
        ? { message: `unknown ${String(p.tag)} ${JSON.stringify((e.data as Record<string, unknown>)?.[String(p.tag)])}` }
        : { extra: String(p.tag), message: 'is required' };
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

/** Combinator errors only summarise the branch errors that follow them. */
const NOISE = new Set(['oneOf', 'anyOf', 'if', 'not']);

/**
 * Validates one parsed policy document against the schema built from the
 * registered rules; every problem is reported as `file:line:col key: message`.
 */
export function validatePolicy(value: unknown, yaml: LoadedYaml, file: string, rules: readonly Rule[]): PolicyDoc {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigurationError(formatLocated(file, 1, 1, '', 'a policy must be a YAML mapping with `version: 1`'));
  }
  const validate = validatorFor(rules);
  if (validate(value)) return value as PolicyDoc;
  const seen = new Set<string>();
  const messages: { line: number; column: number; text: string }[] = [];
  const errors = validate.errors ?? [];
  const hasSpecific = (e: ErrorObject) => errors.some((o) => o !== e && !NOISE.has(o.keyword) && o.instancePath.startsWith(e.instancePath));
  for (const e of errors) {
    if (NOISE.has(e.keyword) && hasSpecific(e)) continue;
    const base = toPath(e.instancePath, value);
    const { extra, message } = describe(e, rules);
    const path = extra !== undefined ? [...base, extra] : base;
    const id = `${dottedKey(path)}|${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const pos = yaml.locate(e.keyword === 'additionalProperties' ? path : base, { key: e.keyword === 'additionalProperties' });
    messages.push({ ...pos, text: formatLocated(file, pos.line, pos.column, dottedKey(path), message) });
  }
  messages.sort((a, b) => a.line - b.line || a.column - b.column);
  const texts = messages.map((m) => m.text);
  throw new ConfigurationError(texts[0] ?? `${file}: invalid policy`, texts);
}
