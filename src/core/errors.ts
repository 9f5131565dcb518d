/**
 * The user's policy, input or flags are wrong (exit 2). The message is meant for
 * the user as is: it names the file, line, column and key where it can.
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  constructor(
    message: string,
    /** Further located problems when several were found at once. */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/**
 * A repository file (attacker-controlled) is too large, too deep or malformed.
 * Never reaches the user as an exception: the engine turns it into a finding on
 * `path` (fail closed).
 */
export class FileProblem extends Error {
  override name = 'FileProblem';
  constructor(
    readonly path: string,
    message: string,
    /** Finding sub-code without the rule prefix, e.g. `budget-exceeded`. */
    readonly code: string = 'unreadable',
    readonly line?: number,
  ) {
    super(message);
  }
}

export function formatLocated(file: string, line: number | undefined, column: number | undefined, key: string, message: string): string {
  const where = line ? `${file}:${line}:${column ?? 1}` : file;
  return key ? `${where}: ${key}: ${message}` : `${where}: ${message}`;
}
