import { Ajv, _ } from 'ajv';
import standaloneCodeImport from 'ajv/dist/standalone/index.js';
import { POLICY_AJV_OPTIONS, schemaDigest } from './validate.js';
import { policyFormats } from './policy-formats.js';

// ajv's standalone module is CommonJS; its default export arrives wrapped under ESM interop.
const standaloneCode = ((standaloneCodeImport as unknown as { default?: unknown }).default ?? standaloneCodeImport) as (ajv: Ajv, v: unknown) => string;

/**
 * The source of an ES module that stands in for `precompiled.ts`: the policy
 * validator for `schema`, compiled now with the run-time options, exported
 * with the schema's digest so a run uses it only for that very schema.
 * `formatsModule` is where the module imports `policyFormats` from; ajv's
 * run-time helpers stay `require` calls for the bundler to resolve.
 */
export function precompiledModuleSource(schema: object, formatsModule: string): string {
  const ajv = new Ajv({ ...POLICY_AJV_OPTIONS, formats: policyFormats, code: { source: true, esm: true, formats: _`policyFormats` } });
  const code = standaloneCode(ajv, ajv.compile(schema));
  return [
    `import { policyFormats } from ${JSON.stringify(formatsModule)};`,
    code,
    `export const precompiled = { schemaDigest: ${JSON.stringify(schemaDigest(schema))}, validate };`,
    '',
  ].join('\n');
}
