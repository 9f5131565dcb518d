import type { Rule } from '../checks/rule.js';
import { RULES } from '../checks/registry.js';
import { REPOSITORY_URL, helpUrl } from '../core/version.js';
import type { Level } from '../core/types.js';
import type { Report } from './types.js';

const SARIF_LEVEL: Record<Level, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** Findings that come from the engine rather than a rule still get a descriptor. */
const ENGINE_FAMILIES = [
  { id: 'policy', title: 'Policy', summary: 'Findings about the policy itself: expired or unused exceptions, unpinned extends, policy changes in a PR.' },
  { id: 'inventory', title: 'Inventory', summary: 'Findings about the repository listing: symlinks, truncated inventories, unsafe paths.' },
];

/** SARIF 2.1.0 with one reportingDescriptor per rule, for GitHub code scanning and other consumers. */
export function renderSarif(report: Report, rules: readonly Rule[] = RULES): Record<string, unknown> {
  const descriptors = [
    ...rules.map((r) => ({ id: r.id, title: r.title, summary: r.summary, level: r.defaultLevel as Level, refs: r.references.map((x) => x.id) })),
    ...ENGINE_FAMILIES.map((f) => ({ ...f, level: 'warning' as Level, refs: [] as string[] })),
  ];
  const index = new Map(descriptors.map((d, i) => [d.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'mlgate',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: REPOSITORY_URL,
            rules: descriptors.map((d) => ({
              id: d.id,
              name: d.title.replace(/[^A-Za-z0-9]+/g, ''),
              shortDescription: { text: d.title },
              fullDescription: { text: d.summary },
              helpUri: helpUrl(d.id, report.tool.version),
              help: { text: `${d.summary} See ${helpUrl(d.id, report.tool.version)}` },
              defaultConfiguration: { level: SARIF_LEVEL[d.level] },
              properties: { tags: ['security', 'ml', ...d.refs] },
            })),
          },
        },
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
          level: SARIF_LEVEL[f.level],
          message: { text: f.code ? `${f.message} (${f.code})` : f.message },
          ...(f.path
            ? {
                locations: [
                  {
                    physicalLocation: {
                      artifactLocation: { uri: encodeURI(f.path), uriBaseId: '%SRCROOT%' },
                      ...(f.line ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}), ...(f.endLine ? { endLine: f.endLine } : {}) } } : {}),
                    },
                  },
                ],
              }
            : {}),
          partialFingerprints: { 'mlgateFingerprint/v1': f.fingerprint },
          ...(f.waived ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${f.waived.reason} (owner ${f.waived.owner}, expires ${f.waived.expires})` }] } : {}),
          properties: { ...(f.code ? { code: f.code } : {}), help: f.help },
        })),
        columnKind: 'unicodeCodePoints',
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The repository root.' } } },
      },
    ],
  };
}
