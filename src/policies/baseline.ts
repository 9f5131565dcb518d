import type { ValidateFunction } from 'ajv';
import type { Rule } from '../checks/rule.js';
import { ConfigurationError, formatLocated } from '../core/errors.js';
import { loadYaml, YamlError, type LoadedYaml } from '../formats/yaml.js';
import type { Lock } from './lock.js';
import { resolveException } from './merge.js';
import type { Finding } from '../core/types.js';
import type { ResolvedException } from './types.js';
import { locatedSchemaErrors, policyAjv } from './validate.js';

export const DEFAULT_BASELINE_PATH = '.github/mlgate-baseline.yml';
/**
 * A baseline lists every finding accepted when mlgate was switched on, so it
 * may be far larger than a policy: a few thousand entries at most.
 */
export const MAX_BASELINE_BYTES = 1024 * 1024;
export const MAX_BASELINE_ENTRIES = 10_000;

/** One accepted finding, as `mlgate baseline` recorded it. */
export interface BaselineEntry {
  fingerprint: string;
  rule: string;
  /** Sub-code without the rule prefix. */
  code?: string;
  /** Absent for a finding on the repository as a whole. */
  path?: string;
  /** The finding's message when it was recorded, for reviewers; matching goes by fingerprint. */
  message: string;
  owner: string;
  reason: string;
  expires: string;
}

export interface BaselineDoc {
  version: 1;
  entries: BaselineEntry[];
}

export const BASELINE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'entries'],
  properties: {
    version: { const: 1 },
    entries: {
      type: 'array',
      maxItems: MAX_BASELINE_ENTRIES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['fingerprint', 'rule', 'message', 'owner', 'reason', 'expires'],
        properties: {
          fingerprint: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'the finding fingerprint (32 hex digits)' },
          rule: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          code: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          path: { type: 'string', minLength: 1, maxLength: 4096 },
          message: { type: 'string', maxLength: 4000 },
          owner: { type: 'string', minLength: 1, maxLength: 200 },
          reason: { type: 'string', minLength: 1, maxLength: 2000 },
          expires: { type: 'string', format: 'date' },
        },
      },
    },
  },
};

let validator: ValidateFunction | undefined;

/** Parses and checks a baseline file; every problem is a located ConfigurationError. */
export function parseBaseline(text: string, name: string, rules: readonly Rule[]): { doc: BaselineDoc; yaml: LoadedYaml } {
  if (text.length > MAX_BASELINE_BYTES) {
    throw new ConfigurationError(formatLocated(name, 1, 1, '', `the baseline is ${text.length} bytes, over the ${MAX_BASELINE_BYTES}-byte limit; fix or prune findings (mlgate baseline --prune) rather than accept more`));
  }
  let yaml: LoadedYaml;
  try {
    yaml = loadYaml(text, { maxChars: MAX_BASELINE_BYTES, maxNodes: 20 * MAX_BASELINE_ENTRIES, maxAliases: 0, maxDepth: 8 });
  } catch (e) {
    if (e instanceof YamlError) throw new ConfigurationError(formatLocated(name, e.line ?? 1, e.column ?? 1, '', `invalid YAML: ${e.message}`));
    throw e;
  }
  validator ??= policyAjv().compile(BASELINE_SCHEMA);
  if (!validator(yaml.value)) {
    const messages = locatedSchemaErrors(validator.errors ?? [], yaml.value, yaml, name, rules).sort((a, b) => a.line - b.line || a.column - b.column);
    const texts = messages.map((m) => m.text);
    throw new ConfigurationError(texts[0] ?? `${name}: invalid baseline`, texts);
  }
  return { doc: yaml.value as BaselineDoc, yaml };
}

/**
 * The entries as exceptions: each waives the one finding with its fingerprint,
 * rule and code. They come from the repository itself, so every lock applies
 * to them as to the repository's own exceptions.
 */
export function baselineExceptions(
  doc: BaselineDoc,
  yaml: LoadedYaml,
  name: string,
  path: string,
  registry: readonly Rule[],
  locksById: ReadonlyMap<string, Lock[]>,
  problems: string[],
): ResolvedException[] {
  const byId = new Map(registry.map((r) => [r.id, r]));
  return doc.entries.map((entry, i) => {
    const site = { name, path: ['entries', i], yaml };
    const decl = { rule: entry.rule, paths: ['**'], ...(entry.code ? { codes: [entry.code] } : {}), fingerprints: [entry.fingerprint], reason: entry.reason, owner: entry.owner, expires: entry.expires };
    const pos = yaml.locate(['entries', i]);
    return {
      ...resolveException(decl, site, byId, locksById, problems),
      source: 'baseline' as const,
      ...(entry.path !== undefined ? { entryPath: entry.path } : {}),
      layer: name,
      index: i,
      line: pos.line,
      column: pos.column,
      localPath: path,
    };
  });
}

/**
 * On a pull request the baseline is read from the base commit, so an entry the
 * change adds does not waive anything yet. Each unwaived finding that such an
 * entry names gets an info notice saying so; the finding itself still counts.
 * `headText` is the baseline as the change leaves it; unreadable text says nothing.
 */
export function pendingBaselineNotices(headText: string | undefined, file: string, findings: readonly Finding[], rules: readonly Rule[]): { code: string; level: 'info'; message: string; path: string; line: number; column: number }[] {
  if (headText === undefined) return [];
  let parsed: { doc: BaselineDoc; yaml: LoadedYaml };
  try {
    parsed = parseBaseline(headText, file, rules);
  } catch {
    return [];
  }
  const live = new Map(findings.filter((f) => !f.waived).map((f) => [f.fingerprint, f]));
  return parsed.doc.entries.flatMap((entry, i) => {
    const f = live.get(entry.fingerprint);
    if (!f) return [];
    const pos = parsed.yaml.locate(['entries', i]);
    return [
      {
        code: 'policy/pending-baseline-entry',
        level: 'info' as const,
        message: `this change adds a baseline entry for ${f.code ?? f.rule} on ${f.path ?? 'the repository'}; the baseline is read from the base commit, so a change cannot accept its own findings: the entry applies after merge, and until then the finding counts`,
        path: file,
        line: pos.line,
        column: pos.column,
      },
    ];
  });
}
