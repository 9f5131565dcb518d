import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { evaluate } from '../core/evaluate.js';
import type { Logger } from '../core/logger.js';
import type { FailOn } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { ChangeList } from '../inventory/changed.js';
import { gitChanges } from '../inventory/git-changes.js';
import { normaliseRepoPath } from '../inventory/scan.js';
import { DEFAULT_POLICY_PATH } from '../policies/load.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderSarif } from '../report/sarif.js';
import { renderText } from '../report/text.js';
import type { Report } from '../report/types.js';
import { cliPolicyProvider } from './provider.js';

export const FORMATS = ['text', 'json', 'sarif', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export interface CheckArgs {
  dir: string;
  policy?: string;
  base?: string;
  head?: string;
  changedFiles?: string;
  formats: Format[];
  outputs: string[];
  failOn: FailOn;
  policyDir?: string;
  color: boolean;
  now?: Date;
}

export function render(report: Report, format: Format, color: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return `${JSON.stringify(renderSarif(report), null, 2)}\n`;
    case 'markdown':
      return `${renderMarkdown(report)}\n`;
    case 'text':
      return renderText(report, { color });
  }
}

async function changesFromFile(file: string): Promise<ChangeList> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ConfigurationError(`--changed-files ${file}: cannot read the file`);
  });
  const modified: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const p = line.trim();
    if (p === '') continue;
    const norm = normaliseRepoPath(p);
    if (!norm) throw new ConfigurationError(`--changed-files ${file}: ${JSON.stringify(p)} is not a path inside the repository`);
    modified.push(norm);
  }
  return { modified };
}

/** `mlgate check`: evaluate, write the reports, and return the exit code (0 passed, 1 failed). */
export async function runCheck(args: CheckArgs, logger: Logger, stdout: (s: string) => void): Promise<number> {
  const root = path.resolve(args.dir);
  const overrides = new Map<string, string>();
  let policyPath = DEFAULT_POLICY_PATH;
  if (args.policy) {
    const abs = path.resolve(args.policy);
    const rel = path.relative(root, abs).split(path.sep).join('/');
    const inside = normaliseRepoPath(rel);
    if (inside && !rel.startsWith('..')) policyPath = inside;
    else {
      policyPath = abs;
      overrides.set(abs, abs);
    }
  }
  let changes: ChangeList | undefined;
  if (args.base) changes = await gitChanges(root, args.base, args.head).catch((e: Error) => {
    throw new ConfigurationError(`--base ${args.base}: ${e.message}`);
  });
  else if (args.changedFiles) changes = await changesFromFile(args.changedFiles);

  const report = await evaluate({
    root,
    policyPath,
    provider: cliPolicyProvider(root, args.policyDir ? path.resolve(args.policyDir) : undefined, overrides),
    mode: changes ? 'changed' : 'full',
    changes,
    failOn: args.failOn,
    now: args.now,
    logger,
    toolVersion: VERSION,
  });

  for (let i = 0; i < args.formats.length; i++) {
    const format = args.formats[i]!;
    const out = args.outputs[i];
    const text = render(report, format, out ? false : args.color);
    if (out) await writeFile(out, text);
    else stdout(text);
  }
  return report.conclusion === 'failure' ? 1 : 0;
}
