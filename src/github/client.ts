import type { GitHub } from '@actions/github/lib/utils';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Logger } from '../core/logger.js';
import { VERSION } from '../core/version.js';

const withPlugins = (base: typeof GitHub) => base.plugin(retry, throttling);
export type GitHubClient = InstanceType<ReturnType<typeof withPlugins>>;

export interface ClientOptions {
  token: string;
  logger: Logger;
  /** Defaults to GITHUB_API_URL (read by the toolkit), else https://api.github.com. */
  baseUrl?: string;
  /** Longest single rate-limit wait worth making; beyond it the request fails and the job carries on. */
  maxWaitSeconds?: number;
  /** Total rate-limit waiting allowed over the whole run, so a job never sits out its timeout. */
  totalWaitSeconds?: number;
  /** Retries of a rate-limited request. */
  maxRateLimitRetries?: number;
}

/**
 * The one place an API client is made. Proxy settings and GITHUB_API_URL come
 * from the toolkit's defaults; 5xx answers are retried with backoff; rate
 * limits are honoured when the wait is short enough, abandoned otherwise.
 * Permission errors (403 without a rate-limit signal) and 429s are left to the
 * throttling handler alone, so nothing is retried twice.
 */
export async function createGitHubClient(opts: ClientOptions): Promise<GitHubClient> {
  // Imported on first use: the toolkit parses the event payload when its module loads, and a broken
  // payload must surface inside run()'s error handling, not as a crash before it.
  const { GitHub, getOctokitOptions } = await import('@actions/github/lib/utils');
  const Client = withPlugins(GitHub);
  const maxWait = opts.maxWaitSeconds ?? 180;
  let waitBudget = opts.totalWaitSeconds ?? 300;
  const maxRetries = opts.maxRateLimitRetries ?? 3;
  const onLimit = (kind: string) => (retryAfter: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number): boolean => {
    const what = `${options.method ?? 'GET'} ${options.url ?? ''}`;
    if (retryCount >= maxRetries || retryAfter > maxWait || retryAfter > waitBudget) {
      opts.logger.warning(`GitHub ${kind} rate limit on ${what}: not waiting ${retryAfter}s (retry ${retryCount + 1}); giving up on this request.`);
      return false;
    }
    waitBudget -= retryAfter;
    opts.logger.info(`GitHub ${kind} rate limit on ${what}: retrying in ${retryAfter}s.`);
    return true;
  };
  return new Client(
    getOctokitOptions(opts.token, {
      userAgent: `mlgate/${VERSION}`,
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
      retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') },
      log: { debug: () => {}, info: () => {}, warn: (m: string) => opts.logger.debug(m), error: (m: string) => opts.logger.debug(m) },
    }),
  );
}

/** HTTP status of an Octokit RequestError, if it is one. */
export function httpStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A token without the needed permission: a fork PR's read-only token or a
 * workflow without `checks: write`. GitHub answers 403 "Resource not accessible
 * by integration" (or 404 for some endpoints when the repository is hidden).
 */
export function isPermissionDenied(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === 401) return true;
  if (status !== 403) return false;
  return !/rate limit/i.test((err as Error).message ?? '');
}
