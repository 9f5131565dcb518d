import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import type { Finding } from '../core/types.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { allCodes } from '../report/rule-pages.js';
import { renderSarif } from '../report/sarif.js';
import type { Report } from '../report/types.js';
import { annotatable, toAnnotations, truncateBytes } from '../github/annotations.js';
import { CHECK_OUTPUT_LIMIT, CheckRun, PublishError } from '../github/check-run.js';
import { emitWorkflowAnnotations } from './fallback-annotations.js';
import type { ActionInputs } from './inputs.js';

/** GitHub refuses step summaries over 1 MiB. */
const STEP_SUMMARY_LIMIT = 1024 * 1024 - 1024;
export const REPORT_FILE = 'mlgate-report.json';
/**
 * 50 update requests at GitHub's one-write-a-second pace: under a minute and
 * within the secondary limit on content creation. Past that, more annotations
 * are noise on the diff; every finding stays in the summaries and the report.
 */
export const MAX_CHECK_ANNOTATIONS = 2500;

export interface RunLinks {
  /** This workflow run's page, where the job summary is. */
  run?: string;
}

export interface PublishOptions {
  report: Report;
  inputs: ActionInputs;
  check: CheckRun | undefined;
  root: string;
  links: RunLinks;
  tempDir: string | undefined;
  logger: Logger;
}

/**
 * Every channel is tried and none decides the verdict: report files and
 * outputs first (later steps rely on them), the job summary, then the check
 * run, or workflow-command annotations when there is no check run.
 */
export async function publish(opts: PublishOptions): Promise<void> {
  const { report, inputs, logger } = opts;
  const live = report.findings.filter((f) => !f.waived);
  const errors = count(live, 'error');
  const warnings = count(live, 'warning');
  core.setOutput('conclusion', report.conclusion);
  core.setOutput('errors', String(errors));
  core.setOutput('warnings', String(warnings));

  const dir = opts.tempDir ? path.join(opts.tempDir, 'mlgate') : opts.root;
  await writeOutputFile('report', path.join(dir, REPORT_FILE), () => renderJson(report), logger);
  if (inputs.sarif) {
    const sarif = { codes: await allCodes(), checkName: inputs.checkName, policyPath: inputs.policy };
    await writeOutputFile('sarif', path.resolve(opts.root, inputs.sarif), () => `${JSON.stringify(renderSarif(report, sarif), null, 2)}\n`, logger);
  }

  try {
    await core.summary.addRaw(fit(report, STEP_SUMMARY_LIMIT, 'Truncated: the full list is in the JSON report (the `report` output of this step).')).write();
  } catch (err) {
    logger.debug(`No job summary written: ${(err as Error).message}`);
  }

  const title = titleOf(errors, warnings, report.counts.waived);
  core.info(`mlgate: ${report.conclusion} (${title}).`);
  let fallback: readonly Finding[] | undefined;
  if (opts.check) {
    const where = opts.links.run ? `the job summary of this run (${opts.links.run})` : 'the job summary of this run';
    const all = toAnnotations(report.findings);
    const annotations = all.slice(0, MAX_CHECK_ANNOTATIONS);
    const left = all.length - annotations.length;
    const leftNote = left > 0 ? `\n\n> Only the ${MAX_CHECK_ANNOTATIONS} most severe findings are annotated on the diff; the other ${left} are listed in ${where} and the JSON report.\n` : '';
    if (left > 0) logger.warning(`${all.length} findings on files: annotating the ${MAX_CHECK_ANNOTATIONS} most severe; the rest are in the job summary and the JSON report.`);
    const summary =
      fit(report, CHECK_OUTPUT_LIMIT - Buffer.byteLength(leftNote), `Truncated to fit the check run: see ${where} and the JSON report (\`${REPORT_FILE}\`, the \`report\` output) for every finding.`) + leftNote;
    try {
      await opts.check.complete({ conclusion: report.conclusion, title, summary, annotations }, logger);
    } catch (err) {
      const delivered = err instanceof PublishError ? err.delivered : 0;
      fallback = annotatable(report.findings).slice(delivered);
      logger.warning(`${(err as Error).message} Reporting the remaining ${fallback.length} annotations in the job log instead.`);
    }
  } else {
    fallback = report.findings;
  }
  if (fallback) emitWorkflowAnnotations(fallback);
}

/** Writes a report file and sets its output; a file that cannot be written is a warning, never the verdict. */
async function writeOutputFile(output: string, file: string, render: () => string, logger: Logger): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, render());
    core.setOutput(output, file);
  } catch (err) {
    logger.warning(`Could not write the ${output} file ${file}: ${(err as Error).message}`);
  }
}

/** `2 errors, 5 warnings` (and the waived count when there is one). */
export function titleOf(errors: number, warnings: number, waived: number): string {
  const parts = [plural(errors, 'error'), plural(warnings, 'warning')];
  if (waived) parts.push(`${waived} waived`);
  return parts.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function count(findings: readonly Finding[], level: Finding['level']): number {
  return findings.filter((f) => f.level === level).length;
}

/**
 * The Markdown report within `limit` UTF-8 bytes. The renderer truncates by
 * characters, so it is asked again with a smaller budget until the bytes fit
 * (multi-byte file names); a final cut on a line boundary guarantees the limit.
 */
export function fit(report: Report, limit: number, overflowNote: string): string {
  let maxChars = limit - 256;
  let text = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    text = renderMarkdown(report, { maxChars, overflowNote });
    const bytes = Buffer.byteLength(text);
    if (bytes <= limit) return text;
    maxChars = Math.floor((maxChars * limit) / bytes) - 256;
  }
  // Whole lines, and a collapsed section closed, so the cut neither splits a table row nor swallows the note.
  const tail = `\n\n</details>\n\n${overflowNote}\n`;
  const kept = truncateBytes(text, limit - Buffer.byteLength(tail), '');
  const lines = kept.slice(0, kept.lastIndexOf('\n') + 1);
  const open = (lines.match(/^<details>/gm) ?? []).length > (lines.match(/^<\/details>$/gm) ?? []).length;
  return `${lines}${open ? tail : `\n\n${overflowNote}\n`}`;
}
