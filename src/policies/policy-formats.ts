import type { Format } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { globProblem } from './glob.js';

/**
 * The string formats of the policy schemas, by name. One object serves both
 * the validator compiled at run time and the one the build precompiles, which
 * refers to it by this export's name.
 */
export const policyFormats: Record<string, Format> = {
  date: fullFormats.date,
  uri: fullFormats.uri,
  email: fullFormats.email,
  hostname: fullFormats.hostname,
  glob: { type: 'string', validate: (s: string) => globProblem(s) === undefined },
};
