import type { Logger } from '../core/logger.js';
import { createGitHubClient } from '../github/client.js';
import { DEFAULT_BATCH_SIZE, planBatches, type Batching } from './batch.js';
import { listOrgRepositories, type Listing, type ListOptions } from './list.js';

export interface PlanOptions extends ListOptions {
  token: string;
  /** The REST API root (GITHUB_API_URL); default https://api.github.com. */
  apiUrl?: string;
  batchSize?: number;
  logger: Logger;
}

/** `org plan`: the organisation's repositories, in batches for the job matrix. */
export async function planSweep(opts: PlanOptions): Promise<{ listing: Listing; batching: Batching }> {
  const client = await createGitHubClient({ token: opts.token, logger: opts.logger, ...(opts.apiUrl ? { baseUrl: opts.apiUrl } : {}) });
  const listing = await listOrgRepositories(client, opts, opts.logger);
  return { listing, batching: planBatches(listing.repositories, opts.batchSize ?? DEFAULT_BATCH_SIZE) };
}
