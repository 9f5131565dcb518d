import type { Logger } from '../core/logger.js';
import { ANNOTATIONS_PER_REQUEST, batches, truncateBytes, type CheckAnnotation } from './annotations.js';
import type { GitHubClient } from './client.js';
import type { Repo } from './event.js';

/** The Checks API's limit on `output.summary` and `output.text`; kept in UTF-8 bytes, which is never more than characters. */
export const CHECK_OUTPUT_LIMIT = 65_535;

export interface CheckResult {
  /** Never `neutral`: a required check must block when the gate fails. */
  conclusion: 'success' | 'failure';
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
}

/** Publishing stopped part way; the annotations after the first `delivered` go through another channel. */
export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    message: string,
    readonly delivered: number,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

export class CheckRun {
  private constructor(
    private readonly client: GitHubClient,
    private readonly repo: Repo,
    readonly id: number,
  ) {}

  /** Creates the run `in_progress` on the commit under review; throws the API error (403 when the token may not write checks). */
  static async start(client: GitHubClient, repo: Repo, name: string, headSha: string): Promise<CheckRun> {
    const { data } = await client.rest.checks.create({
      ...repo,
      name,
      head_sha: headSha,
      status: 'in_progress',
      started_at: new Date().toISOString(),
    });
    return new CheckRun(client, repo, data.id);
  }

  /**
   * Sends the annotations 50 at a time while the run is still in progress, and
   * completes it with the last batch, so a finished run always carries them all.
   */
  async complete(result: CheckResult, logger: Logger): Promise<void> {
    const groups = batches(result.annotations);
    if (groups.length === 0) groups.push([]);
    for (const [i, group] of groups.entries()) {
      const last = i === groups.length - 1;
      try {
        await this.client.rest.checks.update({
          ...this.repo,
          check_run_id: this.id,
          ...(last ? { status: 'completed' as const, conclusion: result.conclusion, completed_at: new Date().toISOString() } : {}),
          output: last
            ? { title: result.title, summary: result.summary, annotations: group }
            : { title: result.title, summary: `Delivering annotations: batch ${i + 1} of ${groups.length}.`, annotations: group },
        });
      } catch (err) {
        await this.finishWithoutAnnotations(result, logger);
        throw new PublishError(`Could not deliver annotations to the check run (${(err as Error).message}).`, i * ANNOTATIONS_PER_REQUEST, err);
      }
    }
  }

  /** Completes the run with a bare summary and conclusion (a configuration or internal error, or a failed batch). */
  async finishWithoutAnnotations(result: Omit<CheckResult, 'annotations'>, logger: Logger): Promise<void> {
    try {
      await this.client.rest.checks.update({
        ...this.repo,
        check_run_id: this.id,
        status: 'completed',
        conclusion: result.conclusion,
        completed_at: new Date().toISOString(),
        output: { title: result.title, summary: truncateBytes(result.summary, CHECK_OUTPUT_LIMIT) },
      });
    } catch (err) {
      logger.warning(`Could not complete check run ${this.id}: ${(err as Error).message}. It stays in progress, which keeps a required check blocking.`);
    }
  }
}
