import type { HashPool } from '../core/hash-pool.js';
import { ConfigurationError } from '../core/errors.js';
import { shardRanges } from '../formats/oms/manifest.js';
import type { Resource } from '../formats/oms/statement.js';
import type { ModelFile } from './files.js';
import { SigningServiceError } from './errors.js';

export interface ResourceOptions {
  method: 'files' | 'shards';
  shardSize: number;
  /** Sign a Git LFS pointer by its oid (the SHA-256 of the content it stands for) instead of refusing it. */
  lfsOid: boolean;
}

interface Job {
  file: ModelFile;
  start?: number;
  end?: number;
}

const display = (f: ModelFile) => (f.rel === '.' ? f.abs : f.rel);

/**
 * An LFS pointer's oid is the SHA-256 of the whole content, so it answers a
 * `files` resource, or the one shard of a file no larger than a shard; never
 * several shards.
 */
function lfsResources(f: ModelFile, o: ResourceOptions): Resource[] {
  const { oid, size } = f.lfs!;
  if (o.method === 'files') return [{ path: f.rel, digest: oid }];
  if (size === 0) return [];
  if (size <= o.shardSize) return [{ path: f.rel, range: { start: 0, end: size }, digest: oid }];
  throw new ConfigurationError(
    `${display(f)} is a Git LFS pointer to ${size} bytes, more than one shard of ${o.shardSize}: its oid cannot stand for the shard digests. Fetch the content (git lfs pull) and sign again`,
  );
}

/**
 * Hashes the model's files (or their shards) on the verifier's worker pool,
 * largest first so the cores finish together: one read of each byte.
 */
export async function hashResources(files: readonly ModelFile[], pool: HashPool, o: ResourceOptions): Promise<{ resources: Resource[]; bytes: number }> {
  const pointers = files.filter((f) => f.lfs);
  if (pointers.length > 0 && !o.lfsOid) {
    const list = pointers.slice(0, 5).map(display).join(', ');
    throw new ConfigurationError(
      `${list}${pointers.length > 5 ? ` and ${pointers.length - 5} more` : ''} ${pointers.length === 1 ? 'is a Git LFS pointer' : 'are Git LFS pointers'}, not the model content. Fetch the content first (git lfs pull, or actions/checkout with lfs: true), or pass --lfs-oid to sign each pointer's oid as its SHA-256 digest`,
    );
  }
  const resources: Resource[] = pointers.flatMap((f) => lfsResources(f, o));
  const jobs: Job[] = [];
  for (const file of files) {
    if (file.lfs) continue;
    if (o.method === 'files') jobs.push({ file });
    else for (const r of shardRanges(file.size, o.shardSize)) jobs.push({ file, start: r.start, end: r.end });
  }
  const length = (j: Job) => (j.end ?? j.file.size) - (j.start ?? 0);
  jobs.sort((a, b) => length(b) - length(a));
  let bytes = 0;
  const results = await Promise.all(
    jobs.map(async (j) => {
      let r;
      try {
        r = await pool.hash({ file: j.file.abs, start: j.start, end: j.end });
      } catch (e) {
        throw new ConfigurationError(`${display(j.file)} could not be read: ${e instanceof Error ? e.message : String(e)}`);
      }
      // A file that changes under the signer would be signed in a state that never existed.
      if (r.size !== j.file.size) throw new SigningServiceError(`${display(j.file)} changed size while it was being signed (${j.file.size} → ${r.size} bytes); sign again once nothing writes to the model`);
      bytes += r.bytes;
      return { path: j.file.rel, ...(j.start !== undefined ? { range: { start: j.start, end: j.end! } } : {}), digest: r.hex };
    }),
  );
  resources.push(...results);
  return { resources, bytes };
}
