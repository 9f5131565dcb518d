import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import { evaluate } from '../engine/evaluate.js';
import type { ProgressPort } from '../engine/options.js';
import type { Logger } from '../core/logger.js';
import type { FailOn } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { ChangeList } from '../inventory/changed.js';
import { gitBaseFile } from '../inventory/git-base-file.js';
import { gitChanges } from '../inventory/git-changes.js';
import { normaliseRepoPath } from '../inventory/scan.js';
import { DEFAULT_POLICY_PATH } from '../policies/load.js';
import { locatePolicy } from '../policies/locate.js';
import { renderJson } from '../report/json.js';
import { renderMarkdown } from '../report/markdown.js';
import { allCodes } from '../report/rule-pages.js';
import { renderSarif, type SarifOptions } from '../report/sarif.js';
import { renderText, type TextOptions } from '../report/text.js';
import type { Report } from '../report/types.js';
import { renderWorkflowCommands } from '../report/workflow-commands.js';
import { cliPolicyProvider } from './provider.js';
import { reportRepository } from './repository.js';
import { resolveScope, restrictChanges, type Scope } from './targets.js';

export const FORMATS = ['text', 'json', 'sarif', 'markdown', 'github'] as const;
export type Format = (typeof FORMATS)[number];

export interface CheckArgs {
  /** Directories or files; empty means `.`. */
  targets: string[];
  root?: string;
  policy?: string;
  base?: string;
  head?: string;
  changedFiles?: string;
  formats: Format[];
  outputs: string[];
  failOn: FailOn;
  policyDir?: string;
  /** `--repository OWNER/NAME`: the report's repository (default: the origin remote). */
  repository?: string;
  /** How the text report on standard output looks (files never get colour). */
  text: Omit<TextOptions, 'notes' | 'displayPath'>;
  progress?: ProgressPort;
  /** Paths in the text report are shown relative to this directory (default: the working directory). */
  cwd?: string;
  now?: Date;
}

export function render(report: Report, format: Format, text: TextOptions, sarif: SarifOptions = {}, now?: Date): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return `${JSON.stringify(renderSarif(report, sarif), null, 2)}\n`;
    case 'markdown':
      return `${renderMarkdown(report, { now })}\n`;
    case 'text':
      return renderText(report, text);
    case 'github':
      return renderWorkflowCommands(report.findings);
  }
}

/**
 * `--changed-files FILE`: one path a line, relative to the repository root or
 * absolute inside it. Every path outside the repository is named in one error.
 */
export async function changesFromFile(file: string, root: string): Promise<ChangeList> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ConfigurationError(`--changed-files ${file}: cannot read the file`);
  });
  const modified: string[] = [];
  const outside: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const p = line.trim();
    if (p === '') continue;
    const inside = (abs: string) => {
      const rel = path.relative(root, abs);
      return path.isAbsolute(rel) ? undefined : normaliseRepoPath(rel.split(path.sep).join('/'));
    };
    // The root is a real path; an absolute path through a symlink (/tmp → /private/tmp) is compared as its real path too.
    const norm = path.isAbsolute(p) ? (inside(p) ?? inside(await realpath(p).catch(() => p))) : normaliseRepoPath(p);
    if (norm) modified.push(norm);
    else outside.push(p);
  }
  if (outside.length > 0) {
    const shown = outside.slice(0, 20).map((p) => `  ${JSON.stringify(p)}`);
    if (outside.length > 20) shown.push(`  … and ${outside.length - 20} more`);
    throw new ConfigurationError(
      `--changed-files ${file}: ${outside.length} path${outside.length === 1 ? ' is' : 's are'} not inside the repository ${root} (paths are relative to it, or absolute inside it):\n${shown.join('\n')}`,
    );
  }
  return { modified };
}

export const isFile = (abs: string) =>
  stat(abs).then(
    (s) => s.isFile(),
    () => false,
  );

/** The policy file to read: `--policy` (which must exist), else the one default name, else the built-in policy. */
async function choosePolicyFile(scope: Scope, policy: string | undefined) {
  const overrides = new Map<string, string>();
  if (policy === undefined) {
    const choice = await locatePolicy((p) => isFile(path.join(scope.root, ...p.split('/'))), { option: '--policy' });
    return { policyPath: choice.path ?? DEFAULT_POLICY_PATH, overrides, note: choice.note };
  }
  const abs = path.resolve(policy);
  await locatePolicy(() => isFile(abs), { explicit: policy, option: '--policy' });
  const rel = path.relative(scope.root, abs).split(path.sep).join('/');
  const inside = rel.startsWith('..') || path.isAbsolute(rel) ? undefined : normaliseRepoPath(rel);
  if (inside) return { policyPath: inside, overrides, note: undefined };
  overrides.set(abs, abs);
  return { policyPath: abs, overrides, note: undefined };
}

/** The change to evaluate (`--base`, `--changed-files`, or named paths), or undefined for a full run. */
function changesFor(args: CheckArgs, scope: Scope): Promise<ChangeList> | undefined {
  if (!args.base && !args.changedFiles && scope.files === undefined) return undefined;
  return (async () => {
    let list: ChangeList | undefined;
    if (args.base) {
      list = await gitChanges(scope.root, args.base, args.head).catch((e: Error) => {
        throw new ConfigurationError(`--base ${args.base}: ${e.message}`);
      });
    } else if (args.changedFiles) list = await changesFromFile(args.changedFiles, scope.root);
    if (scope.files === undefined) return list!;
    // Named files or a subdirectory: evaluated as a change that touches just them.
    return list ? restrictChanges(scope, list) : { modified: scope.files };
  })();
}

/** The one-line notes of the text report: which policy applies, and what part of the repository was evaluated. */
function scopeNote(scope: Scope): string | undefined {
  if (scope.files === undefined) return undefined;
  const what = scope.named.length === 1 ? scope.named[0] : `${scope.named.length} paths`;
  return `evaluated ${what} (${scope.files.length} file${scope.files.length === 1 ? '' : 's'}) in the repository at ${scope.root}, as a change that touches only ${scope.named.length === 1 ? 'it' : 'them'}`;
}

/** `mlgate check`: evaluate, write the reports, and return the exit code (0 passed, 1 failed). */
export async function runCheck(args: CheckArgs, logger: Logger, stdout: (s: string) => void): Promise<number> {
  const scope = await resolveScope(args.targets, args.root);
  const { policyPath, overrides, note } = await choosePolicyFile(scope, args.policy);
  // First, as it throws at once on a misspelt --repository: no git may be left running with nobody to hear it fail.
  const repository = reportRepository(scope.root, args.repository);
  repository.catch(() => undefined);
  // git works out the change while the engine lists the repository and compiles the policy.
  const changes = changesFor(args, scope);

  const report = await evaluate({
    root: scope.root,
    policyPath,
    provider: cliPolicyProvider(scope.root, args.policyDir ? path.resolve(args.policyDir) : undefined, overrides),
    mode: changes ? 'changed' : 'full',
    ...(changes ? { changes } : {}),
    // Inline waivers the branch adds itself apply after merge, as on a pull request.
    ...(args.base ? { baseFile: gitBaseFile(scope.root, args.base, args.head) } : {}),
    failOn: args.failOn,
    now: args.now,
    logger,
    toolVersion: VERSION,
    progress: args.progress,
  });
  if (report.stats.files === 0) {
    throw new ConfigurationError(`${args.targets[0] ?? args.root ?? '.'}: the repository at ${scope.root} holds no files to evaluate`);
  }
  const repo = await repository;
  if (repo) report.repository = repo;

  const notes = [note, scopeNote(scope)].filter((n): n is string => n !== undefined);
  const cwd = args.cwd ?? process.cwd();
  // Relative to the working directory while it is inside the repository (or holds it), else absolute: either way a terminal can open it.
  const related = !path.relative(scope.root, cwd).startsWith('..') || !path.relative(cwd, scope.root).startsWith('..');
  const displayPath = (p: string) => {
    const abs = path.join(scope.root, ...p.split('/'));
    return related ? path.relative(cwd, abs).split(path.sep).join('/') || p : abs;
  };
  // SARIF describes each code from the rule pages; a policy outside the repository cannot be pointed at, so the default path stands in.
  const sarif: SarifOptions = args.formats.includes('sarif') ? { codes: await allCodes(), ...(path.isAbsolute(policyPath) ? {} : { policyPath }) } : {};
  for (let i = 0; i < args.formats.length; i++) {
    const format = args.formats[i]!;
    const out = args.outputs[i];
    // A file gets the plain report whatever the terminal: no colour, the default width, repository paths.
    const text = render(report, format, out ? { ...args.text, color: false, width: 80, notes } : { ...args.text, notes, displayPath }, sarif, args.now);
    if (out) await writeFile(out, text);
    else stdout(text);
  }
  return report.conclusion === 'failure' ? 1 : 0;
}
