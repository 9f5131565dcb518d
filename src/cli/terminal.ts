export type ColorChoice = 'auto' | 'always' | 'never';
export const COLOR_CHOICES: readonly ColorChoice[] = ['auto', 'always', 'never'];

/**
 * Whether to colour output: `--color always|never` wins; with `auto`,
 * NO_COLOR (no-color.org) turns it off, FORCE_COLOR turns it on (`0` or
 * `false` off), and otherwise colour follows whether the stream is a terminal.
 */
export function useColor(choice: ColorChoice, env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (choice !== 'auto') return choice === 'always';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.toLowerCase());
  return isTTY && env.TERM !== 'dumb';
}

/** Columns to wrap to: the terminal's, else COLUMNS, else 80 (pipes, files, CI logs). */
export function outputWidth(env: Readonly<Record<string, string | undefined>>, columns: number | undefined): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv >= 20 && fromEnv <= 1000) return fromEnv;
  if (columns !== undefined && columns >= 20) return columns;
  return 80;
}
