import { ConfigurationError } from '../core/errors.js';

export interface Repo {
  owner: string;
  repo: string;
}

/**
 * What the adapter needs from the triggering event. `base` is set when there is
 * something to compare with (a pull request's base, a merge group's base, a
 * push's `before`); the policy is then read from it, never from the head.
 */
export interface GitHubEvent {
  name: string;
  /** The commit the check run belongs to: the PR head, never the merge commit GitHub checks out. */
  headSha: string;
  base?: { sha: string };
  /** Where the policy is read from: the base commit for changes under review, else the work tree (undefined). */
  policyCommit?: string;
  pullRequest?: {
    number: number;
    /** Files the PR changes according to the payload; compared with what the API lists. */
    changedFiles?: number;
    /** The head lives in another repository: its token is read-only. */
    fromFork: boolean;
  };
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const ZERO_SHA = /^0+$/;

/**
 * Reads the event payload the runner wrote. A payload that lacks what its event
 * always carries is a usage error (the action was wired to an event it cannot
 * judge), named by the field that is missing.
 */
export function parseEvent(name: string, payloadText: string, envSha: string | undefined, repo: Repo): GitHubEvent {
  let payload: unknown;
  try {
    payload = payloadText.trim() === '' ? {} : JSON.parse(payloadText);
  } catch (err) {
    throw new ConfigurationError(`The ${name} event payload (GITHUB_EVENT_PATH) is not valid JSON: ${(err as Error).message}`);
  }
  const field = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), payload);
  const sha = (path: string): string => {
    const value = field(path);
    if (typeof value !== 'string' || !SHA.test(value)) {
      throw new ConfigurationError(`The ${name} event payload has no commit SHA at \`${path}\`; mlgate cannot tell which commit to judge.`);
    }
    return value;
  };
  const envHead = (): string => {
    if (!envSha || !SHA.test(envSha)) throw new ConfigurationError(`GITHUB_SHA is not a commit SHA (${JSON.stringify(envSha ?? '')}); run mlgate inside a GitHub Actions job.`);
    return envSha;
  };

  switch (name) {
    case 'pull_request':
    case 'pull_request_target': {
      const number = field('pull_request.number');
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
        throw new ConfigurationError(`The ${name} event payload has no \`pull_request.number\`.`);
      }
      const headRepo = field('pull_request.head.repo.full_name');
      const changed = field('pull_request.changed_files');
      const headSha = sha('pull_request.head.sha');
      const baseSha = sha('pull_request.base.sha');
      return {
        name,
        headSha,
        base: { sha: baseSha },
        policyCommit: baseSha,
        pullRequest: {
          number,
          ...(typeof changed === 'number' ? { changedFiles: changed } : {}),
          // A deleted head repository arrives as null: treat it as foreign.
          fromFork: typeof headRepo !== 'string' || headRepo.toLowerCase() !== `${repo.owner}/${repo.repo}`.toLowerCase(),
        },
      };
    }
    case 'merge_group': {
      const baseSha = sha('merge_group.base_sha');
      return { name, headSha: sha('merge_group.head_sha'), base: { sha: baseSha }, policyCommit: baseSha };
    }
    case 'push': {
      const after = field('after');
      const before = field('before');
      const headSha = typeof after === 'string' && SHA.test(after) && !ZERO_SHA.test(after) ? after : envHead();
      // A new branch has an all-zero `before`: nothing to compare with.
      const base = typeof before === 'string' && SHA.test(before) && !ZERO_SHA.test(before) ? { sha: before } : undefined;
      return { name, headSha, ...(base ? { base } : {}) };
    }
    default:
      return { name, headSha: envHead() };
  }
}

export function parseRepository(value: string | undefined): Repo {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]*))\/([A-Za-z0-9._-]+)$/.exec(value ?? '');
  if (!m) throw new ConfigurationError(`GITHUB_REPOSITORY is not "owner/repo" (${JSON.stringify(value ?? '')}); run mlgate inside a GitHub Actions job.`);
  return { owner: m[1]!, repo: m[2]! };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
