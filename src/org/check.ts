import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FailOn } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { evaluate } from '../engine/evaluate.js';
import { createGitHubClient, type GitHubClient } from '../github/client.js';
import { GitHubPolicyProvider } from '../github/policy-provider.js';
import { originAndHead } from '../inventory/git-origin.js';
import { DEFAULT_POLICY_PATH } from '../policies/load.js';
import { choosePolicy, POLICY_CANDIDATES } from '../policies/locate.js';
import type { PolicyProvider, RemotePolicyRef } from '../policies/provider.js';
import { renderJson } from '../report/json.js';
import type { ErrorResult, RepositoryStatus } from '../report/org-types.js';
import type { RepositoryInfo } from '../report/types.js';
import type { BatchEntry } from './batch.js';
import { shallowClone } from './clone.js';

export interface OrgCheckOptions {
  entries: BatchEntry[];
  /** Where one JSON file per repository is written. */
  outputDir: string;
  /** `{name}` (owner/name), `{owner}` and `{repo}` are replaced: `https://github.com/{name}.git`. */
  cloneUrlTemplate: string;
  /** The web address of the GitHub server, for the reports' repository URLs and the token's scope. */
  serverUrl: string;
  /** Reads private repositories and remote `extends`; absent, public repositories and local policies only. */
  token?: string;
  /** The REST API root (GITHUB_API_URL) for remote `extends`; default https://api.github.com. */
  apiUrl?: string;
  failOn: FailOn;
  cloneTimeoutMs: number;
  logger: Logger;
  now?: Date;
}

export interface OrgCheckResult {
  name: string;
  status: RepositoryStatus;
  file: string;
  /** counts for judged repositories, the reason for the others. */
  detail: string;
}

/** `owner__name.json`: an owner never holds `_`, so the first `__` is where the name starts. */
export const resultFileName = (name: string) => `${name.replace('/', '__')}.json`;

/**
 * `org check`: each repository of the batch cloned at its default branch and
 * judged in full by its own policy, one JSON file each. A repository that
 * cannot be cloned or whose policy is broken is written as an error result
 * with the reason, so the merged report shows it instead of missing it.
 */
export async function checkBatch(opts: OrgCheckOptions): Promise<OrgCheckResult[]> {
  await mkdir(opts.outputDir, { recursive: true });
  const work = await mkdtemp(path.join(tmpdir(), 'mlgate-org-'));
  const results: OrgCheckResult[] = [];
  const client = opts.token ? await createGitHubClient({ token: opts.token, logger: opts.logger, ...(opts.apiUrl ? { baseUrl: opts.apiUrl } : {}) }) : undefined;
  const remote = new Map<string, Promise<string>>();
  try {
    for (const entry of opts.entries) results.push(await checkOne(entry, work, opts, client, remote));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return results;
}

async function checkOne(entry: BatchEntry, work: string, opts: OrgCheckOptions, client: GitHubClient | undefined, remote: Map<string, Promise<string>>): Promise<OrgCheckResult> {
  const [owner, repo] = entry.name.split('/') as [string, string];
  const file = path.join(opts.outputDir, resultFileName(entry.name));
  const url = `${opts.serverUrl.replace(/\/$/, '')}/${entry.name}`;
  const info: RepositoryInfo = { name: entry.name, commit: null, ref: entry.branch ? `refs/heads/${entry.branch}` : null, url };
  const dir = path.join(work, `${owner}__${repo}`);
  const fail = async (stage: ErrorResult['error']['stage'], reason: string): Promise<OrgCheckResult> => {
    const result: ErrorResult = { version: 1, tool: { name: 'mlgate', version: VERSION }, repository: info, error: { stage, reason } };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    opts.logger.warning(`${entry.name}: ${stage} error: ${reason}`);
    return { name: entry.name, status: 'error', file, detail: `${stage} error: ${reason}` };
  };
  try {
    const cloneUrl = opts.cloneUrlTemplate.replaceAll('{name}', entry.name).replaceAll('{owner}', owner).replaceAll('{repo}', repo);
    try {
      await shallowClone({ url: cloneUrl, branch: entry.branch, dir, token: opts.token, tokenOrigin: new URL(opts.serverUrl).origin, timeoutMs: opts.cloneTimeoutMs });
    } catch (err) {
      return await fail('clone', `cannot clone ${entry.branch ? `branch ${entry.branch} of ` : ''}${entry.name}: ${(err as Error).message}`);
    }
    const head = await originAndHead(dir);
    info.commit = head.commit;
    info.ref = head.ref ?? info.ref;
    try {
      const present = (await Promise.all(POLICY_CANDIDATES.map(async (p) => ((await isFileIn(dir, p)) ? [p] : [])))).flat();
      const choice = choosePolicy({ present, option: 'a policy file', where: `in ${entry.name}` });
      const report = await evaluate({
        root: dir,
        policyPath: choice.path ?? DEFAULT_POLICY_PATH,
        provider: sharingRemote(new GitHubPolicyProvider({ root: dir, repo: { owner, repo }, ...(client ? { client } : {}) }), remote),
        mode: 'full',
        failOn: opts.failOn,
        logger: prefixed(opts.logger, entry.name),
        toolVersion: VERSION,
        now: opts.now,
      });
      report.repository = info;
      await writeFile(file, renderJson(report));
      const c = report.counts;
      return { name: entry.name, status: report.conclusion, file, detail: `${c.error} errors, ${c.warning} warnings, ${c.waived} waived` };
    } catch (err) {
      if (err instanceof ConfigurationError) return await fail('policy', [err.message, ...err.details].join('\n'));
      return await fail('evaluate', `mlgate stopped on an internal error: ${(err as Error).message ?? String(err)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The repositories of an organisation mostly extend the same policy at the same
 * pinned ref: it is read once per batch (an answer, or the error, is shared),
 * which spares the API rate limit.
 */
function sharingRemote(inner: PolicyProvider, cache: Map<string, Promise<string>>): PolicyProvider {
  return {
    readLocal: (p) => inner.readLocal(p),
    readRemote(ref: RemotePolicyRef, file?: string) {
      const key = JSON.stringify([ref.owner.toLowerCase(), ref.repo.toLowerCase(), file ?? ref.path, ref.ref]);
      let text = cache.get(key);
      if (!text) cache.set(key, (text = inner.readRemote(ref, file)));
      return text;
    },
    ...(inner.describeLocal ? { describeLocal: (p: string) => inner.describeLocal!(p) } : {}),
  };
}

const isFileIn = (root: string, rel: string) =>
  lstat(path.join(root, ...rel.split('/'))).then(
    (s) => s.isFile(),
    () => false,
  );

function prefixed(logger: Logger, name: string): Logger {
  return {
    debug: (m) => logger.debug(`${name}: ${m}`),
    info: (m) => logger.info(`${name}: ${m}`),
    warning: (m) => logger.warning(`${name}: ${m}`),
    error: (m) => logger.error(`${name}: ${m}`),
  };
}
