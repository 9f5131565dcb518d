import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
/** Where the rule pages live; help links point at the docs of the running version. */
export const REPOSITORY_URL = 'https://github.com/mlgate/mlgate';

/** Docs URL of a rule (or of the `policy`/`inventory` finding families), derived from its id — never typed by hand. */
export function helpUrl(ruleId: string, version: string = VERSION): string {
  return `${REPOSITORY_URL}/blob/v${version}/docs/rules/${ruleId}.md`;
}
