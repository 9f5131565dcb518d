import type { Report } from './types.js';

/** The JSON report exactly as DESIGN §7 lays it out (plus the exceptions in force). */
export function renderJson(report: Report): string {
  const { version, tool, repository, mode, conclusion, counts, findings, rules, stats, exceptions } = report;
  return `${JSON.stringify(
    {
      version,
      tool,
      ...(repository ? { repository } : {}),
      mode,
      conclusion,
      counts,
      findings: findings.map((f) => ({
        rule: f.rule,
        code: f.code ?? null,
        level: f.level,
        message: f.message,
        path: f.path ?? null,
        line: f.line ?? null,
        ...(f.endLine !== undefined ? { endLine: f.endLine } : {}),
        ...(f.column !== undefined ? { column: f.column } : {}),
        help: f.help,
        references: f.references,
        fingerprint: f.fingerprint,
        waived: f.waived,
      })),
      rules,
      stats,
      exceptions,
    },
    null,
    2,
  )}\n`;
}
