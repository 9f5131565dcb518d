import type { ValidateFunction } from 'ajv';

/** A policy validator compiled ahead of time, for the schema whose digest it carries. */
export interface PrecompiledValidator {
  schemaDigest: string;
  validate: ValidateFunction;
}

/**
 * None from source: the schema is compiled when first used. The build
 * (scripts/build.mjs) replaces this module in dist/ with the validator for the
 * built-in rules' schema, so a run starts without compiling it (≈ 0.1 s).
 */
export const precompiled: PrecompiledValidator | undefined = undefined;
