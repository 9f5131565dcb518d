import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Json;
}

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, Json>;
}

export interface MatchedOperation {
  op: Operation;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
}

/** Parameters whose values GitHub lets span several path segments. */
const MULTI_SEGMENT = new Set(['path']);

/**
 * GitHub's REST API description (npm `@octokit/openapi`, api.github.com) as a
 * request validator. Only operations a test reaches are compiled; OpenAPI 3.0
 * schemas are converted to the JSON Schema ajv understands (`nullable`,
 * component `$ref`s as local definitions).
 */
export class OpenApiValidator {
  private static instance: OpenApiValidator | undefined;
  private readonly routes: Array<{ op: Operation; regex: RegExp; names: string[]; literal: number }> = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  static shared(): OpenApiValidator {
    return (OpenApiValidator.instance ??= new OpenApiValidator(loadDescription()));
  }

  private constructor(readonly doc: Json) {
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv);
    const paths = doc.paths as Record<string, Record<string, Json>>;
    for (const [template, item] of Object.entries(paths)) {
      const shared = (item.parameters as Json[] | undefined) ?? [];
      for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head']) {
        const raw = item[method] as Json | undefined;
        if (!raw) continue;
        const names: string[] = [];
        const pattern = template
          .split('/')
          .map((seg) =>
            seg.replace(/\{([^}]+)\}|([^{]+)/g, (_m, name: string | undefined, lit: string | undefined) => {
              if (lit !== undefined) return escapeRegex(lit);
              names.push(name!);
              return MULTI_SEGMENT.has(name!) ? '(.+)' : '([^/]+)';
            }),
          )
          .join('/');
        const op: Operation = {
          operationId: raw.operationId as string,
          method: method.toUpperCase(),
          template,
          parameters: [...shared, ...((raw.parameters as Json[] | undefined) ?? [])].map((p) => this.deref(p) as unknown as Parameter),
          ...(raw.requestBody ? { requestBody: this.deref(raw.requestBody as Json) as Operation['requestBody'] } : {}),
          responses: (raw.responses as Record<string, Json>) ?? {},
        };
        this.routes.push({ op, regex: new RegExp(`^${pattern}$`), names, literal: template.replace(/\{[^}]+\}/g, '').length });
      }
    }
    // The most specific template wins (`/check-runs/{id}/annotations` before `/contents/{path}`-like catch-alls).
    this.routes.sort((a, b) => b.literal - a.literal);
  }

  match(method: string, pathname: string): MatchedOperation | undefined {
    for (const route of this.routes) {
      if (route.op.method !== method) continue;
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      try {
        route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      } catch {
        continue;
      }
      return { op: route.op, params };
    }
    return undefined;
  }

  operation(operationId: string): Operation {
    const route = this.routes.find((r) => r.op.operationId === operationId);
    if (!route) throw new Error(`no operation ${operationId} in the GitHub API description`);
    return route.op;
  }

  /** Every way the request departs from the description; empty when it conforms. */
  validate(match: MatchedOperation, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, bodyText: string): string[] {
    const { op } = match;
    const problems: string[] = [];
    const where = `${op.method} ${op.template}`;
    const known = new Set<string>();
    for (const p of op.parameters) {
      if (p.in === 'path') {
        this.check(problems, `${where} path parameter ${p.name}`, p.schema, coerce(p.schema, match.params[p.name]));
      } else if (p.in === 'query') {
        known.add(p.name);
        const values = query.getAll(p.name);
        if (values.length === 0) {
          if (p.required) problems.push(`${where}: missing required query parameter ${p.name}`);
          continue;
        }
        const value = p.schema?.type === 'array' ? values.flatMap((v) => v.split(',')) : values.length === 1 ? values[0] : values;
        this.check(problems, `${where} query parameter ${p.name}`, p.schema, coerce(p.schema, value));
      } else if (p.in === 'header' && p.required && headers[p.name.toLowerCase()] === undefined) {
        problems.push(`${where}: missing required header ${p.name}`);
      }
    }
    for (const name of new Set(query.keys())) if (!known.has(name)) problems.push(`${where}: unknown query parameter ${name}`);

    const body = op.requestBody;
    if (!body) {
      if (bodyText.trim() !== '') problems.push(`${where}: takes no request body, got ${bodyText.length} bytes`);
      return problems;
    }
    if (bodyText.trim() === '') {
      if (body.required) problems.push(`${where}: request body is required`);
      return problems;
    }
    const type = String(headers['content-type'] ?? '').split(';')[0]!.trim();
    const media = body.content?.[type];
    if (!media) {
      problems.push(`${where}: content-type ${JSON.stringify(type)} is not one of ${Object.keys(body.content ?? {}).join(', ')}`);
      return problems;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText);
    } catch {
      problems.push(`${where}: request body is not JSON`);
      return problems;
    }
    const key = `${op.operationId}#body`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(this.standalone(media.schema ?? {}));
      this.compiled.set(key, validate);
    }
    if (!validate(parsed)) {
      for (const e of validate.errors ?? []) problems.push(`${where}: body${e.instancePath} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    }
    return problems;
  }

  /** How a response body departs from the description's schema for that status (keeps the fake server honest). */
  validateResponse(operationId: string, status: number, body: unknown): string[] {
    const response = this.deref(this.operation(operationId).responses[String(status)] ?? {});
    const schema = (response.content as Record<string, Json> | undefined)?.['application/json']?.schema as Json | undefined;
    if (!schema) return [`${operationId} ${status}: no JSON response in the description`];
    const problems: string[] = [];
    this.check(problems, `${operationId} ${status} response`, schema, body);
    return problems;
  }

  /** The `default` example of a response, from the description's components. */
  example(operationId: string, status: number): unknown {
    const op = this.operation(operationId);
    const response = this.deref(op.responses[String(status)] ?? {});
    const media = (response.content as Record<string, Json> | undefined)?.['application/json'];
    const examples = media?.examples as Record<string, Json> | undefined;
    const first = examples?.default ?? (examples ? Object.values(examples)[0] : undefined);
    if (!first) throw new Error(`no example for ${operationId} ${status}`);
    return structuredClone(this.deref(first).value);
  }

  private check(problems: string[], what: string, schema: Json | undefined, value: unknown): void {
    if (!schema) return;
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(this.standalone(schema));
      this.compiled.set(key, validate);
    }
    if (!validate(value)) problems.push(`${what}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors)}`);
  }

  /** Follows `#/components/...` references (not into schemas, which `standalone` keeps as definitions). */
  private deref(node: Json): Json {
    let current = node;
    for (let i = 0; i < 10 && typeof current.$ref === 'string'; i++) current = this.pointer(current.$ref);
    return current;
  }

  private pointer(ref: string): Json {
    if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
    return ref
      .slice(2)
      .split('/')
      .reduce<Json>((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, this.doc);
  }

  /** A draft-07 schema with every component schema it reaches copied into `definitions`. */
  private standalone(schema: Json): Json {
    const definitions: Record<string, Json> = {};
    const pending: string[] = [];
    const root = toJsonSchema(schema, (name) => {
      if (!(name in definitions)) {
        definitions[name] = {};
        pending.push(name);
      }
    });
    while (pending.length) {
      const name = pending.pop()!;
      definitions[name] = toJsonSchema(this.pointer(`#/components/schemas/${name}`), (n) => {
        if (!(n in definitions)) {
          definitions[n] = {};
          pending.push(n);
        }
      });
    }
    return { ...root, definitions };
  }
}

const DROPPED = new Set(['example', 'examples', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'nullable', 'readOnly', 'writeOnly']);

/** OpenAPI 3.0 Schema Object → JSON Schema (draft-07). */
function toJsonSchema(node: unknown, onRef: (name: string) => void): Json {
  if (typeof node !== 'object' || node === null) return node as Json;
  const s = node as Json;
  if (typeof s.$ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec(s.$ref)?.[1];
    if (!name) throw new Error(`unsupported $ref ${s.$ref}`);
    onRef(name);
    return { $ref: `#/definitions/${name}` };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (DROPPED.has(k) || k.startsWith('x-')) continue;
    if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, sub]) => [p, toJsonSchema(sub, onRef)]));
    } else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = toJsonSchema(v, onRef);
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      out[k] = (v as unknown[]).map((sub) => toJsonSchema(sub, onRef));
    } else {
      out[k] = v;
    }
  }
  if (s.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** Query and path values arrive as strings; the description types them. */
function coerce(schema: Json | undefined, value: unknown): unknown {
  if (!schema || typeof value !== 'string') {
    if (Array.isArray(value) && schema?.type === 'array') return value.map((v) => coerce(schema.items as Json, v));
    return value;
  }
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function loadDescription(): Json {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}
