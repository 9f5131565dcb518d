import { silentLogger } from '../../src/core/logger.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { gitBaseFile } from '../../src/inventory/git-base-file.js';
import { gitChanges } from '../../src/inventory/git-changes.js';
import { cliPolicyProvider } from '../../src/cli/provider.js';
import type { Report } from '../../src/report/types.js';

export const SCALE_NOW = new Date('2026-11-28T12:00:00Z');

/** Evaluates a generated scale repository the way `mlgate check` (or `check --base HEAD~1`) does, at a pinned time. */
export async function evaluateScale(root: string, mode: 'full' | 'changed', onOpen?: (path: string) => void): Promise<Report> {
  return evaluate({
    root,
    provider: cliPolicyProvider(root, undefined),
    mode,
    ...(mode === 'changed' ? { changes: await gitChanges(root, 'HEAD~1', 'HEAD'), baseFile: gitBaseFile(root, 'HEAD~1', 'HEAD') } : {}),
    now: SCALE_NOW,
    logger: silentLogger,
    toolVersion: '0.0.0-test',
    ...(onOpen ? { onOpen } : {}),
  });
}

/** What the golden holds of a report: every finding as JSON, in report order. */
export const goldenOf = (r: Report): string => `${JSON.stringify(r.findings, null, 1)}\n`;
