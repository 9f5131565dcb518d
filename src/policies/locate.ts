import { ConfigurationError } from '../core/errors.js';
import { DEFAULT_POLICY_PATH } from './load.js';

/**
 * Names people give a policy file that mlgate does not read. Found in a
 * repository, each would silently not apply, so each is an error instead.
 */
export const MISNAMED_POLICY_PATHS = ['.github/mlgate.yaml', 'mlgate.yml', 'mlgate.yaml', '.mlgate.yml', '.mlgate.yaml'] as const;

/** Every repository path the front doors look at when no policy is named. */
export const POLICY_CANDIDATES: readonly string[] = [DEFAULT_POLICY_PATH, ...MISNAMED_POLICY_PATHS];

export interface PolicyChoice {
  /** The policy file to read, or undefined for the built-in `mlgate:recommended`. */
  path: string | undefined;
  /** One line for the text report when the built-in policy applies. */
  note?: string;
}

export interface PolicyChoiceInput {
  /** The policy the user named (`--policy`, or an action `policy:` input other than the default). */
  explicit?: string;
  /** Whether the named policy exists (only read with `explicit`). */
  explicitExists?: boolean;
  /** Which of POLICY_CANDIDATES exist in the repository. */
  present: readonly string[];
  /** How to name the option in messages: `--policy` (CLI) or `the "policy" input` (action). */
  option: string;
  /** Where the files were looked for, e.g. `at the base commit abc123` (optional). */
  where?: string;
}

/**
 * Which policy file applies — the one rule for both front doors. A named
 * policy must exist; without one only `.github/mlgate.yml` is read, and a
 * policy under another name (or a second candidate beside it) is an error,
 * because rules it turns on or off would otherwise silently not apply.
 */
export function choosePolicy(input: PolicyChoiceInput): PolicyChoice {
  const where = input.where ? ` ${input.where}` : '';
  if (input.explicit !== undefined) {
    if (!input.explicitExists) {
      throw new ConfigurationError(
        `${input.option} ${input.explicit}: no such policy file${where}. Only the default ${DEFAULT_POLICY_PATH} may be absent (then the built-in mlgate:recommended applies); fix the path or drop ${input.option}.`,
      );
    }
    return { path: input.explicit };
  }
  const others = MISNAMED_POLICY_PATHS.filter((p) => input.present.includes(p));
  const hasDefault = input.present.includes(DEFAULT_POLICY_PATH);
  if (others.length > 0) {
    const found = [...(hasDefault ? [DEFAULT_POLICY_PATH] : []), ...others].join(', ');
    const what = hasDefault
      ? `mlgate reads ${DEFAULT_POLICY_PATH} only, so the rules in ${others.join(', ')} would silently not apply. Merge ${others.length === 1 ? 'it' : 'them'} into ${DEFAULT_POLICY_PATH} and delete ${others.length === 1 ? 'it' : 'them'}`
      : `mlgate reads ${DEFAULT_POLICY_PATH}, which does not exist, so the rules in ${others.join(', ')} would silently not apply and mlgate:recommended would. Rename ${others.length === 1 ? 'it' : 'one of them'} to ${DEFAULT_POLICY_PATH}`;
    throw new ConfigurationError(`found policy file${hasDefault || others.length > 1 ? 's' : ''} ${found}${where}: ${what}, or name the policy to use with ${input.option}.`);
  }
  if (hasDefault) return { path: DEFAULT_POLICY_PATH };
  return { path: undefined, note: `no ${DEFAULT_POLICY_PATH}${where}: the built-in mlgate:recommended policy applies` };
}

/** `choosePolicy` over a reader: asks `exists` only about the files it needs. */
export async function locatePolicy(exists: (path: string) => Promise<boolean>, input: Omit<PolicyChoiceInput, 'present' | 'explicitExists'>): Promise<PolicyChoice> {
  if (input.explicit !== undefined) return choosePolicy({ ...input, explicitExists: await exists(input.explicit), present: [] });
  const found = await Promise.all(POLICY_CANDIDATES.map(async (p) => ((await exists(p)) ? p : undefined)));
  return choosePolicy({ ...input, present: found.filter((p): p is string => p !== undefined) });
}
