import type { Rule } from '../checks/rule.js';
import { schemaUrl } from '../core/version.js';

const levelSchema = { enum: ['off', 'info', 'warning', 'error'], description: 'off | info | warning | error' };
const codeSchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', description: 'a sub-code without the rule prefix, e.g. unsigned' };
const globList = (description: string) => ({ type: 'array', items: { type: 'string', format: 'glob' }, maxItems: 1000, description });

/** Keys every rule takes besides its parameters (DESIGN §3). */
export const COMMON_RULE_PROPERTIES: Record<string, unknown> = {
  level: { ...levelSchema, description: 'Level of the findings of this rule; omitted: the rule\'s default level.' },
  'enforce-from': { type: 'string', format: 'date', description: 'Until this date (YYYY-MM-DD) findings are warnings at most; from it, `level` applies.' },
  locked: { type: 'boolean', description: 'Other policy files, before or after this one in extends, may tighten this rule but not loosen it.' },
  exceptions: {
    description: 'On a locked rule: whether other policy files may add exceptions to it: allowed, denied, or {allowed: true, codes: [...]} to allow them for these sub-codes only.',
    anyOf: [
      { enum: ['allowed', 'denied'] },
      {
        type: 'object',
        additionalProperties: false,
        required: ['allowed'],
        properties: {
          allowed: { type: 'boolean', description: 'Whether other policy files may add exceptions to this rule.' },
          codes: { type: 'array', maxItems: 100, items: codeSchema, description: 'The only sub-codes their exceptions may waive.' },
        },
      },
    ],
  },
  'code-levels': {
    type: 'object',
    description: 'Level per finding sub-code, e.g. {unsigned: warning}.',
    propertyNames: { pattern: '^[a-z0-9][a-z0-9-]*$' },
    additionalProperties: levelSchema,
  },
};

const exceptionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rule', 'paths', 'reason', 'owner', 'expires'],
  properties: {
    rule: { type: 'string', description: 'Rule id the exception applies to; rule/code (model-signing/unsigned) is short for the rule with codes: [code].' },
    paths: { ...globList('Files the exception covers; "**" also covers findings on the repository as a whole.'), minItems: 1 },
    codes: { type: 'array', minItems: 1, maxItems: 100, items: codeSchema, description: 'Only findings with one of these sub-codes of the rule.' },
    fingerprints: {
      type: 'array',
      minItems: 1,
      maxItems: 10000,
      items: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'a finding fingerprint from the JSON or SARIF report (32 hex digits)' },
      description: 'Only these findings, by the fingerprint the JSON and SARIF reports give them.',
    },
    reason: { type: 'string', minLength: 1, maxLength: 2000, description: 'Why the finding is accepted.' },
    owner: { type: 'string', minLength: 1, maxLength: 200, description: 'Who answers for it (team or person).' },
    expires: { type: 'string', format: 'date', description: 'Last day it applies (YYYY-MM-DD), at most max-exception-days ahead.' },
  },
};

/** The published policy JSON Schema, built from the registered rules' parameter schemas. */
export function buildPolicySchema(rules: readonly Rule[]): Record<string, unknown> {
  const ruleProps: Record<string, unknown> = {};
  for (const rule of rules) {
    const params = rule.paramsSchema as { properties?: Record<string, unknown> };
    ruleProps[rule.id] = {
      ...rule.paramsSchema,
      type: 'object',
      description: `${rule.title}: ${rule.summary}`,
      additionalProperties: false,
      properties: { ...COMMON_RULE_PROPERTIES, ...(params.properties ?? {}) },
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: schemaUrl('policy.schema.json'),
    title: 'mlgate policy (version 1)',
    type: 'object',
    additionalProperties: false,
    required: ['version'],
    properties: {
      version: { const: 1, description: 'Policy language version.' },
      extends: {
        type: 'array',
        maxItems: 32,
        description: 'Layers applied first, in order: mlgate:recommended, mlgate:strict, ./path/in/this/repo.yml, owner/repo/path.yml@<tag or commit>.',
        items: { type: 'string', minLength: 1, maxLength: 512 },
      },
      paths: {
        type: 'object',
        additionalProperties: false,
        properties: {
          exclude: globList('Files no rule evaluates.'),
          tests: globList(
            'Test code: rules that read code judge findings there by what a test does (e.g. hub downloads in tests are info). Replaces the defaults (tests/**, test/**, **/tests/**, **/test/**, **/test_*.py, **/*_test.py, **/conftest.py); [] treats no file as a test.',
          ),
        },
      },
      'max-exception-days': { type: 'integer', minimum: 1, maximum: 3650, description: 'How far ahead an exception may expire (default 365).' },
      'inline-exceptions': { enum: ['allowed', 'denied'], description: 'Whether `# mlgate: ignore[rule] reason=… owner=… expires=…` comments in the repository may waive findings (default denied). A policy that locks a rule and says denied cannot be overridden.' },
      rules: { type: 'object', additionalProperties: false, properties: ruleProps },
      exceptions: { type: 'array', maxItems: 1000, items: exceptionSchema },
      baseline: {
        type: 'string',
        minLength: 1,
        maxLength: 512,
        description: 'Repository-relative path of the baseline file written by `mlgate baseline` (e.g. .github/mlgate-baseline.yml); read from the root policy only.',
      },
    },
  };
}
