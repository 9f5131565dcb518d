import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FailOn } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { DEFAULT_BATCH_SIZE, MAX_JOB_OUTPUT_BYTES, parseBatch } from '../org/batch.js';
import { readReposFile } from '../org/list.js';
import { planSweep } from '../org/plan.js';
import { mergeReportFiles, readPrevious } from '../org/read-reports.js';
import { renderOrgHtmlChunks } from '../report/org-html.js';
import { renderOrgMarkdown } from '../report/org-markdown.js';
import type { OrgReport } from '../report/org-types.js';

export const MERGE_FORMATS = ['json', 'markdown', 'html'] as const;
type MergeFormat = (typeof MERGE_FORMATS)[number];

/** What the organisation commands need from the CLI around them. */
export interface OrgCliContext {
  env: Readonly<Record<string, string | undefined>>;
  out(s: string): void;
  err(s: string): void;
  setCode(n: number): void;
  logger(verbose: boolean): Logger;
  /** An option parser accepting one of `allowed`, with "did you mean". */
  oneOf<T extends string>(allowed: readonly T[]): (value: string) => T;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const positiveInt = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new ConfigurationError(`${flag} ${value}: expected a whole number, at least 1`);
  return n;
};

/** The token of the sweep: GITHUB_TOKEN (what a workflow step passes), else GH_TOKEN (the gh CLI's). Never a flag: it would show in `ps` and shell history. */
const tokenOf = (env: OrgCliContext['env']) => env.GITHUB_TOKEN || env.GH_TOKEN || undefined;

/**
 * `mlgate org plan`, `org check` and `report merge`: the organisation sweep
 * (README "Organisation sweep"). Kept in one block so the other commands'
 * file stays about the single-repository gate.
 */
export function registerOrgCommands(program: Command, ctx: OrgCliContext): void {
  const org = program.command('org').summary('sweep an organisation: plan the batches, check a batch').description('Sweep the repositories of an organisation on the Actions job matrix: `org plan` lists them in batches, `org check` judges one batch; `report merge` joins the reports.');

  org
    .command('plan')
    .description(
      "List the organisation's repositories through the API (archived repositories and forks left out unless asked) and print a job matrix of batches: at most 256 jobs, as GitHub allows; more repositories make larger batches. The token is read from GITHUB_TOKEN (or GH_TOKEN), the API from GITHUB_API_URL.",
    )
    .requiredOption('--org <org>', 'the organisation')
    .option('--topic <topic>', 'only repositories with this topic, e.g. ml')
    .option('--repos-file <file>', 'only the repositories listed in FILE (name or owner/name, one a line, # comments)')
    .option('--exclude <glob>', 'leave out repositories whose name or owner/name matches GLOB (repeatable)', collect)
    .option('--batch <n>', `repositories per job (default ${DEFAULT_BATCH_SIZE})`, positiveInt('--batch'))
    .option('--include-archived', 'also list archived repositories')
    .option('--include-forks', 'also list forks')
    .option('--github-output', 'also append matrix=… and repositories=N to the file GITHUB_OUTPUT names (in a workflow step)')
    .option('--verbose', 'log what mlgate does on standard error')
    .addHelpText('after', '\nExamples:\n  GITHUB_TOKEN=… mlgate org plan --org acme --topic ml\n  mlgate org plan --org acme --exclude "sandbox-*" --batch 10 --github-output')
    .action(async (o: { org: string; topic?: string; reposFile?: string; exclude?: string[]; batch?: number; includeArchived?: boolean; includeForks?: boolean; githubOutput?: boolean; verbose?: boolean }) => {
      const token = tokenOf(ctx.env);
      if (!token) throw new ConfigurationError('org plan: no token. Set GITHUB_TOKEN (a GitHub App installation token with metadata: read on the organisation, or the workflow token for public repositories).');
      const logger = ctx.logger(o.verbose ?? false);
      const only = o.reposFile ? await readReposFile(o.reposFile) : undefined;
      const { listing, batching } = await planSweep({
        org: o.org,
        topic: o.topic,
        exclude: o.exclude ?? [],
        only,
        includeArchived: o.includeArchived ?? false,
        includeForks: o.includeForks ?? false,
        token,
        apiUrl: ctx.env.GITHUB_API_URL,
        batchSize: o.batch,
        logger,
      });
      const { matrix, note } = batching;
      const json = JSON.stringify(matrix);
      if (Buffer.byteLength(json) > MAX_JOB_OUTPUT_BYTES) {
        throw new ConfigurationError(`org plan: the matrix is ${Buffer.byteLength(json)} bytes, more than a job output holds (1 MB); narrow the sweep with --topic or --exclude, or split it with --repos-file`);
      }
      const k = listing.skipped;
      const left = [k.archived && `${k.archived} archived`, k.forks && `${k.forks} forks`, k.topic && `${k.topic} without topic ${o.topic}`, k.excluded && `${k.excluded} excluded`, k.notListed && `${k.notListed} not in ${o.reposFile}`].filter(Boolean);
      ctx.err(`${o.org}: ${listing.listed} repositories listed, ${listing.repositories.length} to check in ${matrix.include.length} batch${matrix.include.length === 1 ? '' : 'es'}${left.length ? ` (left out: ${left.join(', ')})` : ''}\n`);
      if (note) ctx.err(`note: ${note}\n`);
      if (listing.missing.length) ctx.err(`warning: ${listing.missing.length} repositor${listing.missing.length === 1 ? 'y' : 'ies'} of ${o.reposFile} not listed by the organisation (renamed, deleted, or not visible to the token): ${listing.missing.join(', ')}\n`);
      if (o.githubOutput) {
        if (!ctx.env.GITHUB_OUTPUT) throw new ConfigurationError('--github-output: GITHUB_OUTPUT is not set (run it in a workflow step)');
        await appendFile(ctx.env.GITHUB_OUTPUT, `matrix=${json}\nrepositories=${listing.repositories.length}\n`);
      }
      ctx.out(`${json}\n`);
      ctx.setCode(0);
    });

  org
    .command('check')
    .description(
      "Judge each repository of a batch: a shallow clone of its default branch (Git LFS objects left as pointers), `check` in full mode with the repository's own policy (remote extends read through the API), and one JSON report per repository in the output directory. A repository that cannot be cloned or whose policy is broken is written as an error result with the reason. Exit 0 once every repository has a result; the verdicts are in the reports.",
    )
    .requiredOption('--batch <json>', 'the repositories: a JSON list of "owner/name" or {"name", "branch"} (a matrix entry\'s repositories), or @FILE')
    .option('--output-dir <dir>', 'where the reports are written', 'mlgate-reports')
    .option('--clone-url-template <url>', 'how a repository is cloned; {name} is owner/name, {owner} and {repo} its parts (default: GITHUB_SERVER_URL/{name}.git)')
    .addOption(new Option('--fail-on <level>', 'the level at which a repository fails: error, warning or never').argParser(ctx.oneOf<FailOn>(['error', 'warning', 'never'])).default('error'))
    .option('--clone-timeout <seconds>', 'give up on a clone after this long (default 600)', positiveInt('--clone-timeout'))
    .option('--verbose', 'log what mlgate does on standard error')
    .addHelpText('after', '\nExamples:\n  mlgate org check --batch \'["acme/model-a","acme/model-b"]\' --output-dir reports\n  mlgate org check --batch "$BATCH" --output-dir reports   # BATCH: ${{ toJSON(matrix.repositories) }}')
    .action(async (o: { batch: string; outputDir: string; cloneUrlTemplate?: string; failOn: FailOn; cloneTimeout?: number; verbose?: boolean }) => {
      const text = o.batch.startsWith('@') ? await readBatchFile(o.batch.slice(1)) : o.batch;
      const entries = parseBatch(text);
      const serverUrl = ctx.env.GITHUB_SERVER_URL || 'https://github.com';
      const template = o.cloneUrlTemplate ?? `${serverUrl.replace(/\/$/, '')}/{name}.git`;
      if (!template.includes('{name}') && !(template.includes('{owner}') && template.includes('{repo}'))) throw new ConfigurationError(`--clone-url-template ${template}: has neither {name} nor {owner} and {repo}`);
      const token = tokenOf(ctx.env);
      const logger = ctx.logger(o.verbose ?? false);
      // Loaded when asked for: the GitHub client and its HTTP stack are a quarter of the bundle, and `check` needs none of it.
      const { checkBatch } = await import('../org/check.js');
      const results = await checkBatch({ entries, outputDir: o.outputDir, cloneUrlTemplate: template, serverUrl, token, apiUrl: ctx.env.GITHUB_API_URL, failOn: o.failOn, cloneTimeoutMs: (o.cloneTimeout ?? 600) * 1000, logger });
      for (const r of results) ctx.out(`${r.name}: ${r.status === 'error' ? 'not checked' : r.status} (${r.detail.split('\n')[0]})\n`);
      const n = (s: string) => results.filter((r) => r.status === s).length;
      ctx.out(`${results.length} repositories: ${n('success')} pass, ${n('failure')} fail, ${n('error')} could not be checked; reports in ${o.outputDir}\n`);
      ctx.setCode(0);
    });

  const report = program.command('report').summary('merge the reports of an organisation sweep').description('Work with JSON reports of several repositories.');
  report
    .command('merge')
    .description(
      'Merge the JSON reports of a sweep (files, or directories searched for *.json) into one organisation report: per repository the verdict and counts, per rule the failing repositories, every exception in force with owner and days left (expired and expiring first), and with --previous what changed since the last merge. HTML is one self-contained page.',
    )
    .argument('<reports...>', 'report files or directories')
    .option('--previous <file>', 'the previous merged JSON report, to list newly failing and fixed repositories and new exceptions')
    .addOption(new Option('--format <format>', 'json, markdown or html (default json; repeat with an --output each)').argParser((v: string, prev: MergeFormat[] | undefined) => [...(prev ?? []), ctx.oneOf(MERGE_FORMATS)(v)]))
    .option('--output <file>', 'write to FILE (pairs with --format in order)', collect)
    .addHelpText('after', '\nExamples:\n  mlgate report merge reports/ --format json --output org.json --format html --output org.html\n  mlgate report merge reports/ --previous last-week.json --format markdown >> "$GITHUB_STEP_SUMMARY"')
    .action(async (inputs: string[], o: { previous?: string; format?: MergeFormat[]; output?: string[] }) => {
      const fmts = o.format ?? ['json'];
      const outputs = o.output ?? [];
      if (outputs.length > fmts.length) throw new ConfigurationError('more --output than --format options: each --output pairs with the --format before it');
      if (fmts.length - outputs.length > 1) throw new ConfigurationError('several formats need an --output each: only one report can go to standard output');
      const previous = o.previous ? await readPrevious(o.previous) : undefined;
      const merged = await mergeReportFiles(inputs, { now: new Date(), toolVersion: VERSION, ...(previous ? { previous } : {}), exclude: [...(o.previous ? [o.previous] : []), ...outputs] });
      for (const w of merged.warnings) ctx.err(`warning: ${w}\n`);
      for (let i = 0; i < fmts.length; i++) {
        const chunks = renderMerged(merged, fmts[i]!);
        const out = outputs[i];
        if (out) {
          await mkdir(path.dirname(path.resolve(out)), { recursive: true });
          // In pieces: the page of a large organisation runs to tens of megabytes.
          await pipeline(Readable.from(chunks), createWriteStream(out));
        } else for (const c of chunks) ctx.out(c);
      }
      const s = merged.summary;
      ctx.err(`${s.repositories} repositories: ${s.success} pass, ${s.failure} fail, ${s.error} could not be checked\n`);
      ctx.setCode(0);
    });
}

async function readBatchFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new ConfigurationError(`--batch @${file}: cannot read the file`);
  }
}

function renderMerged(report: OrgReport, format: MergeFormat): Iterable<string> {
  if (format === 'json') return [`${JSON.stringify(report)}\n`];
  if (format === 'markdown') return [renderOrgMarkdown(report)];
  return renderOrgHtmlChunks(report);
}
