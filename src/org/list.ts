import { readFile } from 'node:fs/promises';
import { minimatch } from 'minimatch';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { httpStatus, type GitHubClient } from '../github/client.js';
import type { BatchEntry } from './batch.js';

export interface ListOptions {
  org: string;
  /** Keep only repositories with this topic (e.g. `ml`). */
  topic?: string;
  /** Globs on `name` or `owner/name`; a match leaves the repository out. */
  exclude: string[];
  /** Only these repositories (from `--repos-file`): names, with or without the owner. */
  only?: string[];
  includeArchived: boolean;
  includeForks: boolean;
}

export interface Listing {
  repositories: BatchEntry[];
  /** How many the organisation listed, and why the others were left out. */
  listed: number;
  skipped: { archived: number; forks: number; topic: number; excluded: number; notListed: number };
  /** Names in `--repos-file` the organisation does not list (renamed, deleted, or not visible to the token). */
  missing: string[];
}

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/**
 * Every repository of the organisation the token can see, one page of 100 at
 * a time (the client waits out rate limits within its budget). Archived
 * repositories and forks are left out unless asked for: nobody merges into
 * the first, and the second judge someone else's code.
 */
export async function listOrgRepositories(client: GitHubClient, opts: ListOptions, logger: Logger): Promise<Listing> {
  if (!ORG.test(opts.org)) throw new ConfigurationError(`--org ${JSON.stringify(opts.org)}: not an organisation login`);
  const only = opts.only ? new Set(opts.only.map((n) => (n.includes('/') ? n : `${opts.org}/${n}`).toLowerCase())) : undefined;
  const skipped = { archived: 0, forks: 0, topic: 0, excluded: 0, notListed: 0 };
  const repositories: BatchEntry[] = [];
  const seen = new Set<string>();
  let listed = 0;
  let pages = 0;
  try {
    for await (const page of client.paginate.iterator(client.rest.repos.listForOrg, { org: opts.org, type: 'all', per_page: 100 })) {
      pages++;
      for (const r of page.data) {
        listed++;
        const full = r.full_name;
        seen.add(full.toLowerCase());
        if (only && !only.has(full.toLowerCase())) skipped.notListed++;
        else if (r.archived && !opts.includeArchived) skipped.archived++;
        else if (r.fork && !opts.includeForks) skipped.forks++;
        else if (opts.topic !== undefined && !(r.topics ?? []).includes(opts.topic)) skipped.topic++;
        else if (opts.exclude.some((g) => minimatch(r.name, g, { nocase: true }) || minimatch(full, g, { nocase: true }))) skipped.excluded++;
        else repositories.push({ name: full, ...(r.default_branch ? { branch: r.default_branch } : {}) });
      }
    }
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) throw new ConfigurationError(`--org ${opts.org}: no such organisation, or the token cannot see it (HTTP 404)`);
    if (status === 401 || status === 403) {
      throw new ConfigurationError(`--org ${opts.org}: the token may not list the organisation's repositories (HTTP ${status}: ${(err as Error).message}). Use a GitHub App installation token with metadata: read.`);
    }
    throw err;
  }
  logger.info(`${opts.org}: ${listed} repositories in ${pages} page${pages === 1 ? '' : 's'}`);
  const missing = only ? [...only].filter((n) => !seen.has(n)) : [];
  repositories.sort((a, b) => a.name.localeCompare(b.name));
  return { repositories, listed, skipped, missing };
}

/** `--repos-file`: one repository a line (`name` or `owner/name`); blank lines and `#` comments are skipped. */
export async function readReposFile(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ConfigurationError(`--repos-file ${file}: cannot read the file`);
  });
  const names: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (/^(?:[A-Za-z0-9][A-Za-z0-9-]*\/)?[A-Za-z0-9._-]+$/.test(line)) names.push(line);
    else bad.push(`${file}:${i + 1}: ${JSON.stringify(line)} is not a repository name (name or owner/name)`);
  });
  if (bad.length) throw new ConfigurationError(bad[0]!, bad.length > 1 ? bad : []);
  return names;
}
