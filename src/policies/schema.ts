import type { Rule } from '../checks/rule.js';
import { REPOSITORY_URL } from '../core/version.js';

const levelSchema = { enum: ['off', 'info', 'warning', 'error'], description: 'off | info | warning | error' };
const globList = (description: string) => ({ type: 'array', items: { type: 'string', format: 'glob' }, maxItems: 1000, description });

/** Keys every rule takes besides its parameters (DESIGN §3). */
export const COMMON_RULE_PROPERTIES: Record<string, unknown> = {
  level: { ...levelSchema, description: 'Level of the findings of this rule; omitted: the rule\'s default level.' },
  'enforce-from': { type: 'string', format: 'date', description: 'Until this date (YYYY-MM-DD) findings are warnings at most; from it, `level` applies.' },
  locked: { type: 'boolean', description: 'Other policy files, before or after this one in extends, may tighten this rule but not loosen it.' },
  exceptions: { enum: ['allowed', 'denied'], description: 'On a locked rule: whether other policy files may add exceptions to it.' },
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
    rule: { type: 'string', description: 'Rule id the exception applies to.' },
    paths: { ...globList('Files the exception covers.'), minItems: 1 },
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
    $id: `${REPOSITORY_URL}/schema/policy.schema.json`,
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
        properties: { exclude: globList('Files no rule evaluates.') },
      },
      'max-exception-days': { type: 'integer', minimum: 1, maximum: 3650, description: 'How far ahead an exception may expire (default 365).' },
      'inline-exceptions': { enum: ['allowed', 'denied'], description: 'Whether `# mlgate: ignore[rule] reason=… owner=… expires=…` comments in the repository may waive findings (default denied). A policy that locks a rule and says denied cannot be overridden.' },
      rules: { type: 'object', additionalProperties: false, properties: ruleProps },
      exceptions: { type: 'array', maxItems: 1000, items: exceptionSchema },
    },
  };
}
