import { evaluate } from '../../src/engine/evaluate.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Report } from '../../src/report/types.js';
import { memoryProvider } from './policy.js';
import { makeRepo, type FileTree } from './repo.js';

/** A fixed clock, so dated findings (reviews, exceptions) do not change from one day to the next. */
export const GATE_NOW = new Date('2026-12-01T12:00:00Z');

/**
 * The whole engine over a fresh repository, as a user's run would see it:
 * without `policy` no policy file, so `mlgate:recommended` applies.
 */
export async function runGate(files: FileTree, opts: { policy?: string; now?: Date; git?: boolean; root?: string } = {}): Promise<Report> {
  const root = opts.root ?? (await makeRepo(files, { git: opts.git }));
  return evaluate({
    root,
    provider: memoryProvider(opts.policy ? { '.github/mlgate.yml': opts.policy } : {}),
    mode: 'full',
    logger: silentLogger,
    toolVersion: '1.0.0',
    now: opts.now ?? GATE_NOW,
  });
}
