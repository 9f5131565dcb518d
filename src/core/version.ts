import pkg from '../../package.json' with { type: 'json' };

/** The one source of truth for the version is package.json; scripts/release.mjs bumps it. */
export const VERSION: string = pkg.version;
/** Where the rule pages live; help links point at the docs of the running version. */
export const REPOSITORY_URL = 'https://github.com/mlgate/mlgate';
const RAW_URL = 'https://raw.githubusercontent.com/mlgate/mlgate';

/** Docs URL of a rule (or of the `policy`/`inventory` finding families), derived from its id — never typed by hand. */
export function helpUrl(ruleId: string, version: string = VERSION): string {
  return `${REPOSITORY_URL}/blob/v${version}/docs/rules/${ruleId}.md`;
}

/**
 * `$id` of a published JSON Schema: the file at the release tag, served raw so
 * editors (yaml-language-server) and validators can fetch it, and a schema
 * never changes under a policy written against an older release.
 */
export function schemaUrl(file: 'policy.schema.json' | 'report.schema.json' | 'baseline.schema.json' | 'org-report.schema.json', version: string = VERSION): string {
  return `${RAW_URL}/v${version}/schema/${file}`;
}
