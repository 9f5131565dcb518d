// Writes schema/policy.schema.json from the registered rules and
// schema/baseline.schema.json from the baseline reader's own schema (`npm run schema`).
// Tests fail when a committed file differs from what this produces.
import { writeFile } from 'node:fs/promises';
import { RULES } from '../src/checks/registry.js';
import { schemaUrl } from '../src/core/version.js';
import { BASELINE_SCHEMA } from '../src/policies/baseline.js';
import { buildPolicySchema } from '../src/policies/schema.js';

const baseline = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: schemaUrl('baseline.schema.json'),
  title: 'mlgate baseline (version 1), written by `mlgate baseline`',
  ...BASELINE_SCHEMA,
};
await writeFile('schema/policy.schema.json', `${JSON.stringify(buildPolicySchema(RULES), null, 2)}\n`);
await writeFile('schema/baseline.schema.json', `${JSON.stringify(baseline, null, 2)}\n`);
console.log(`schema/policy.schema.json: ${RULES.length} rules; schema/baseline.schema.json`);
