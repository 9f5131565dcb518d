import { ConfigurationError } from '../core/errors.js';
import type { Notice } from '../engine/options.js';
import type { Logger } from '../core/logger.js';
import type { Mode } from '../core/types.js';
import type { ChangeList } from '../inventory/changed.js';
import { API_FILE_CAP, changesFromApi, changesFromGit } from '../github/changed-files.js';
import type { GitHubClient } from '../github/client.js';
import type { GitHubEvent, Repo } from '../github/event.js';
import type { ModeInput } from './inputs.js';

export interface Scope {
  mode: Mode;
  changes?: ChangeList;
  notices: Notice[];
}

/**
 * Decides what to evaluate. `auto` judges a pull request or merge group by
 * what it changes and anything else in full. Whenever the changed set cannot
 * be known completely, the whole repository is evaluated instead and a notice
 * says why: missing a file would be a silent pass.
 */
export async function resolveScope(opts: {
  mode: ModeInput;
  event: GitHubEvent;
  root: string;
  repo: Repo;
  client: GitHubClient;
  logger: Logger;
}): Promise<Scope> {
  const { event, mode } = opts;
  if (mode === 'full') return { mode: 'full', notices: [] };
  const underReview = event.pullRequest !== undefined || event.name === 'merge_group';
  if (mode === 'auto' && !underReview) return { mode: 'full', notices: [] };
  if (!event.base) {
    if (event.name !== 'push') {
      throw new ConfigurationError(`Input "mode" is "changed", but a ${event.name} event has nothing to compare with; use "auto" or "full".`);
    }
    return full('inventory/full-evaluation', 'This push creates a branch, so there is no previous commit to compare with; the whole repository was evaluated.');
  }

  const fromGit = await changesFromGit(opts.root, event.base.sha, event.headSha);
  if (fromGit) {
    opts.logger.debug(`Changed files from local git (${event.base.sha}...${event.headSha}).`);
    return { mode: 'changed', changes: fromGit, notices: [] };
  }
  if (!event.pullRequest) {
    return full(
      'inventory/full-evaluation',
      `The checkout does not hold ${event.base.sha} and ${event.headSha}, so the changed files are unknown; the whole repository was evaluated. Check out with \`fetch-depth: 0\` to evaluate only the changes.`,
    );
  }
  const expected = event.pullRequest.changedFiles;
  // The payload already says the list would be cut short: spare the 30 requests.
  if (expected !== undefined && expected >= API_FILE_CAP) return capped(expected);
  const api = await changesFromApi(opts.client, opts.repo, event.pullRequest.number, expected);
  opts.logger.debug(`Changed files from the pulls API: ${api.listed}.`);
  if (api.capped) return capped(expected ?? api.listed);
  return { mode: 'changed', changes: api.changes, notices: [] };
}

function capped(size: number): Scope {
  return full(
    'inventory/changed-files-capped',
    `This pull request changes ${size} files; the GitHub API lists at most ${API_FILE_CAP.toLocaleString('en-US')} and the checkout has no history to diff, so the whole repository was evaluated instead of the changes. Check out with \`fetch-depth: 0\` to evaluate only the changes.`,
  );
}

function full(code: string, message: string): Scope {
  return { mode: 'full', notices: [{ code, level: 'info', message }] };
}
