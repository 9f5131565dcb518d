import type { Rule } from '../checks/rule.js';
import { RULES } from '../checks/registry.js';
import { REPOSITORY_URL, helpUrl } from '../core/version.js';
import { LEVEL_RANK, type Finding, type Level } from '../core/types.js';
import { plainText, rowAsText, rowColumn, type CodeDoc } from './code-docs.js';
import { POLICY_PATH, repositoryLevelPath } from './repository-locations.js';
import { severityOf } from './severity.js';
import type { Report } from './types.js';

type SarifLevel = 'error' | 'warning' | 'note';
const SARIF_LEVEL: Record<Level, SarifLevel> = { error: 'error', warning: 'warning', info: 'note' };
const PROBLEM_SEVERITY: Record<SarifLevel, string> = { error: 'error', warning: 'warning', note: 'recommendation' };

/**
 * GitHub code scanning rejects a run of more than 25,000 results; mlgate keeps the
 * most severe and says how many it left out (in the run's notifications).
 * https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
 */
export const MAX_SARIF_RESULTS = 25_000;

/** Findings that come from the engine rather than a rule still get a descriptor. */
const ENGINE_FAMILIES = [
  { id: 'policy', title: 'Policy', summary: 'Findings about the policy itself: expired or unused exceptions, unpinned extends, policy changes in a PR.' },
  { id: 'inventory', title: 'Inventory', summary: 'Findings about the repository listing: symlinks, truncated inventories, unsafe paths.' },
];

export interface SarifOptions {
  /** The documented codes (docs/rules tables): one descriptor each. Without them, one descriptor per rule. */
  codes?: readonly CodeDoc[];
  rules?: readonly Rule[];
  /** The check's name (the action's `check-name`): with the mode, it keeps uploads of different runs apart. */
  checkName?: string;
  /** Repository-relative policy path, where findings about the policy or the run are shown. */
  policyPath?: string;
}

interface Family {
  id: string;
  title: string;
  summary: string;
  level: Level;
  tags: string[];
}

/** `model-signing/digest-mismatch` → `ModelSigningDigestMismatch`. */
export const pascalCase = (code: string) =>
  code
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** A documented level (`error`, `` `info` ``, `warning (error with strict)`) or the rule's own. */
function documentedLevel(doc: CodeDoc, fallback: Level): Level {
  const cell = rowColumn(doc, /^level$/i);
  const word = cell?.match(/^(error|warning|info)\b/)?.[1] as Level | undefined;
  return word ?? fallback;
}

function codeDescriptor(doc: CodeDoc, family: Family, version: string) {
  const level = SARIF_LEVEL[documentedLevel(doc, family.level)];
  const sev = severityOf(doc.code, level);
  const page = helpUrl(doc.page, version);
  const uri = doc.anchor ? `${page}#${doc.anchor}` : page;
  const meaning = rowColumn(doc, /^(meaning|reported for)$/i) ?? plainText(doc.row);
  return {
    id: doc.code,
    name: pascalCase(doc.code),
    shortDescription: { text: `${family.title}: ${meaning}`.slice(0, 1024) },
    fullDescription: { text: `${family.title}. ${rowAsText(doc).join('. ')}.`.replace(/\.\.$/, '.') },
    helpUri: uri,
    help: {
      text: [`${doc.code}: ${family.summary}`, '', ...rowAsText(doc), '', `Documentation: ${uri}`].join('\n'),
      markdown: [`**${doc.code}** — ${family.summary}`, '', doc.header[0]!, doc.header[1]!, doc.row, '', `[Documentation of ${doc.code}](${uri})`].join('\n'),
    },
    defaultConfiguration: { level },
    properties: descriptorProperties(family, sev, level),
  };
}

/** The rule's own descriptor: for findings without a code, or with a code its page does not list. */
function familyDescriptor(family: Family, version: string) {
  const level = SARIF_LEVEL[family.level];
  const uri = helpUrl(family.id, version);
  return {
    id: family.id,
    name: pascalCase(family.id),
    shortDescription: { text: family.title },
    fullDescription: { text: family.summary },
    helpUri: uri,
    help: { text: `${family.summary}\n\nDocumentation: ${uri}`, markdown: `**${family.id}** — ${family.summary}\n\n[Documentation of ${family.id}](${uri})` },
    defaultConfiguration: { level },
    properties: descriptorProperties(family, severityOf(undefined, level), level),
  };
}

function descriptorProperties(family: Family, sev: ReturnType<typeof severityOf>, level: SarifLevel) {
  return {
    // Code scanning keeps 10 tags per rule and rejects more than 20.
    tags: [...new Set(['security', 'ml', ...family.tags])].slice(0, 10),
    precision: sev.precision,
    'problem.severity': PROBLEM_SEVERITY[level],
    'security-severity': sev.score.toFixed(1),
  };
}

/** Each segment percent-encoded: `encodeURI` would leave `#` and `?`, which turn the rest of a file name into a fragment or a query. */
const pathToUri = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** What is kept when a run must be cut: unwaived before waived, then by level, then by security-severity, then the report's order. */
function mostSevereFirst(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i, rank: (f.waived ? 0 : 100) + LEVEL_RANK[f.level] * 10 + severityOf(f.code, SARIF_LEVEL[f.level]).score }))
    .sort((a, b) => b.rank - a.rank || a.i - b.i)
    .map((x) => x.f);
}

/**
 * SARIF 2.1.0 for GitHub code scanning: one reportingDescriptor per documented code
 * (ranked with `security-severity`, helped from the docs), one per rule as the
 * fallback, and a physical location on every result.
 * https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
 */
export function renderSarif(report: Report, options: SarifOptions = {}): Record<string, unknown> {
  const version = report.tool.version;
  const families: Family[] = [
    ...(options.rules ?? RULES).map((r) => ({ id: r.id, title: r.title, summary: r.summary, level: r.defaultLevel, tags: r.references.map((x) => x.id) })),
    ...ENGINE_FAMILIES.map((f) => ({ ...f, level: 'warning' as Level, tags: [] as string[] })),
  ];
  const familyById = new Map(families.map((f) => [f.id, f]));
  const codes = (options.codes ?? []).filter((c) => familyById.has(c.page));
  const seen = new Set<string>();
  const descriptors = [
    ...families.map((f) => familyDescriptor(f, version)),
    ...codes.filter((c) => !seen.has(c.code) && seen.add(c.code)).map((c) => codeDescriptor(c, familyById.get(c.page)!, version)),
  ];
  const index = new Map(descriptors.map((d, i) => [d.id, i]));
  const policyPath = options.policyPath ?? POLICY_PATH;
  const kept = report.findings.length > MAX_SARIF_RESULTS ? mostSevereFirst(report.findings).slice(0, MAX_SARIF_RESULTS) : report.findings;
  const left = report.findings.length - kept.length;

  const result = (f: Finding) => {
    const ruleId = f.code !== undefined && index.has(f.code) ? f.code : f.rule;
    const at = f.path ?? repositoryLevelPath(f, policyPath);
    const message = f.message.replace(/\.$/, '');
    const text = f.code ? `${message} (${f.code})` : message;
    return {
      ruleId,
      ...(index.has(ruleId) ? { ruleIndex: index.get(ruleId) } : {}),
      level: SARIF_LEVEL[f.level],
      message: {
        text: f.path ? text : `${text}. This is about the repository as a whole, so it is shown on ${at}, the file that would fix it.`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: pathToUri(at), uriBaseId: '%SRCROOT%' },
            region: f.path && f.line ? { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}), ...(f.endLine ? { endLine: f.endLine } : {}) } : { startLine: 1 },
          },
        },
      ],
      partialFingerprints: { 'mlgateFingerprint/v1': f.fingerprint },
      ...(f.waived ? { suppressions: [{ kind: f.waived.source === 'inline' ? 'inSource' : 'external', status: 'accepted', justification: `${f.waived.reason} (owner ${f.waived.owner}, expires ${f.waived.expires})` }] } : {}),
      properties: { ...(f.code ? { code: f.code } : {}), help: f.help },
    };
  };

  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: { name: 'mlgate', version, semanticVersion: version, informationUri: REPOSITORY_URL, rules: descriptors },
        },
        // Code scanning keeps the alerts of each category apart: a changed-mode upload must not close a full run's alerts.
        // An id that ends with "/" is all category, as the CodeQL action writes it.
        automationDetails: { id: `${options.checkName ?? 'mlgate'}/${report.mode}/` },
        invocations: [
          {
            executionSuccessful: true,
            ...(left > 0
              ? {
                  toolExecutionNotifications: [
                    {
                      level: 'warning',
                      message: {
                        text: `${report.findings.length} findings, more than the ${MAX_SARIF_RESULTS} results GitHub code scanning accepts in one run: the ${left} least severe are left out of this file; the JSON report lists every finding.`,
                      },
                    },
                  ],
                }
              : {}),
          },
        ],
        results: kept.map(result),
        columnKind: 'unicodeCodePoints',
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The repository root.' } } },
      },
    ],
  };
}
