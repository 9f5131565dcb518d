// Writes schema/policy.schema.json from the registered rules (`npm run schema`).
// A test fails when the committed file differs from what this produces.
import { writeFile } from 'node:fs/promises';
import { RULES } from '../src/checks/registry.js';
import { buildPolicySchema } from '../src/policies/schema.js';

await writeFile('schema/policy.schema.json', `${JSON.stringify(buildPolicySchema(RULES), null, 2)}\n`);
console.log(`schema/policy.schema.json: ${RULES.length} rules`);
