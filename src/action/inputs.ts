import { ConfigurationError } from '../core/errors.js';
import type { FailOn } from '../core/types.js';

export type ModeInput = 'auto' | 'changed' | 'full';

export interface ActionInputs {
  policy: string;
  token: string;
  mode: ModeInput;
  failOn: FailOn;
  checkName: string;
  /** Empty when no SARIF file was asked for. */
  sarif: string;
}

/** Reads one input as the runner passes it (trimmed; empty when unset). */
export type InputReader = (name: string) => string;

const MODES: readonly ModeInput[] = ['auto', 'changed', 'full'];
const FAIL_ON: readonly FailOn[] = ['error', 'warning', 'never'];

/** Validates every input, naming the input and the accepted values in the error. */
export function readInputs(read: InputReader): ActionInputs {
  const policy = read('policy') || '.github/mlgate.yml';
  const normalised = policy.replace(/\\/g, '/');
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised) || normalised.split('/').includes('..')) {
    throw new ConfigurationError(`Input "policy" must be a path inside the repository (like .github/mlgate.yml), got ${JSON.stringify(policy)}.`);
  }
  const token = read('token');
  if (!token) {
    throw new ConfigurationError('Input "token" is empty. Leave it unset to use the workflow token (`${{ github.token }}`), or pass a token that can read the repository and write checks.');
  }
  const checkName = read('check-name') || 'mlgate';
  if ([...checkName].length > 100 || /[\r\n]/.test(checkName)) {
    throw new ConfigurationError('Input "check-name" must be a single line of at most 100 characters.');
  }
  return {
    policy: normalised.replace(/^\.\//, ''),
    token,
    mode: oneOf('mode', read('mode') || 'auto', MODES),
    failOn: oneOf('fail-on', read('fail-on') || 'error', FAIL_ON),
    checkName,
    sarif: read('sarif'),
  };
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigurationError(`Input "${name}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}; got ${JSON.stringify(value)}.`);
}
