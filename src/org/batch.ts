import { ConfigurationError } from '../core/errors.js';
import { REPOSITORY_NAME } from '../inventory/git-origin.js';

/** One repository of a sweep: its `owner/name` and the branch to judge (absent: the remote's default). */
export interface BatchEntry {
  name: string;
  branch?: string;
}

/** What `strategy.matrix` receives: one job per batch. */
export interface Matrix {
  include: Array<{ batch: number; repositories: BatchEntry[] }>;
}

/** GitHub runs at most 256 jobs from one matrix. */
export const MAX_MATRIX_JOBS = 256;
/** Repositories per job when `--batch` is not given: a few minutes of cloning and checking each. */
export const DEFAULT_BATCH_SIZE = 20;
/** A job output (the plan job hands the matrix over as one) holds at most 1 MB. */
export const MAX_JOB_OUTPUT_BYTES = 1024 * 1024;

/** What git accepts as a branch name, minus what could be read as an option. */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!\/)(?!.*[/.]$)[^\0-\x20\x7f~^:?*[\\]{1,255}$/;

export interface Batching {
  matrix: Matrix;
  /** The batch size used: the one asked for, or larger to stay within MAX_MATRIX_JOBS. */
  size: number;
  /** Why the size differs from the one asked for. */
  note?: string;
}

/**
 * Splits repositories into batches of `size`, enlarged when that would need
 * more than 256 jobs: GitHub refuses a bigger matrix, and several matrices
 * would need a workflow per 256 batches for no gain (each job just takes longer).
 */
export function planBatches(repositories: readonly BatchEntry[], size: number = DEFAULT_BATCH_SIZE): Batching {
  if (!Number.isInteger(size) || size < 1) throw new ConfigurationError(`--batch ${size}: expected a whole number of repositories per job, at least 1`);
  const needed = Math.ceil(repositories.length / MAX_MATRIX_JOBS);
  const used = Math.max(size, needed);
  const include: Matrix['include'] = [];
  for (let i = 0; i < repositories.length; i += used) include.push({ batch: include.length + 1, repositories: repositories.slice(i, i + used) });
  const note =
    used > size
      ? `${repositories.length} repositories in batches of ${size} would need ${Math.ceil(repositories.length / size)} jobs, more than GitHub's ${MAX_MATRIX_JOBS} per matrix: batches of ${used} instead`
      : undefined;
  return { matrix: { include }, size: used, ...(note ? { note } : {}) };
}

/**
 * `org check --batch JSON`: an array of `owner/name` strings or `{name, branch}`
 * objects (what one matrix job's `repositories` holds), or the whole matrix
 * entry `{batch, repositories}`. Every entry is checked before anything is
 * cloned, and all the bad ones are named at once.
 */
export function parseBatch(text: string): BatchEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError(`--batch: not valid JSON (${(err as Error).message}); expected a list of repositories such as ["acme/model-a", {"name": "acme/model-b", "branch": "main"}]`);
  }
  if (isObject(data) && Array.isArray(data.repositories)) data = data.repositories;
  if (!Array.isArray(data)) throw new ConfigurationError('--batch: expected a JSON list of repositories (or a matrix entry with "repositories")');
  const problems: string[] = [];
  const entries: BatchEntry[] = [];
  const seen = new Set<string>();
  data.forEach((item: unknown, i) => {
    const entry: unknown = typeof item === 'string' ? { name: item } : item;
    if (!isObject(entry) || typeof entry.name !== 'string') {
      problems.push(`--batch[${i}]: expected "owner/name" or {"name": "owner/name", "branch": "…"}`);
      return;
    }
    const extra = Object.keys(entry).filter((k) => k !== 'name' && k !== 'branch');
    if (extra.length) problems.push(`--batch[${i}]: unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')} (known: name, branch)`);
    if (!REPOSITORY_NAME.test(entry.name)) problems.push(`--batch[${i}].name ${JSON.stringify(entry.name)}: expected owner/name`);
    if (entry.branch !== undefined && (typeof entry.branch !== 'string' || !BRANCH.test(entry.branch))) problems.push(`--batch[${i}].branch ${JSON.stringify(entry.branch)}: not a branch name`);
    const key = entry.name.toLowerCase();
    if (seen.has(key)) problems.push(`--batch[${i}]: ${entry.name} is listed twice`);
    seen.add(key);
    entries.push({ name: entry.name, ...(typeof entry.branch === 'string' ? { branch: entry.branch } : {}) });
  });
  if (problems.length) throw new ConfigurationError(problems.length === 1 ? problems[0]! : `--batch: ${problems.length} problems`, problems.length === 1 ? [] : problems);
  return entries;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
