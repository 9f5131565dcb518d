import path from 'node:path';
import { gitWithInput, isGitRepo } from '../inventory/git.js';
import type { ModelListing } from './files.js';

/**
 * Files signed although git ignores them: they exist here but not in any
 * clone, so every later check would report them missing. Best effort (no git,
 * no warning). Tracked files are never reported: ignore rules do not apply to them.
 */
export async function gitIgnoredFiles(root: string, listing: ModelListing): Promise<string[]> {
  const cwd = listing.kind === 'dir' ? root : path.dirname(root);
  const rels = listing.files.map((f) => (f.rel === '.' ? path.basename(root) : f.rel));
  if (rels.length === 0 || !(await isGitRepo(cwd))) return [];
  try {
    const out = await gitWithInput(cwd, ['check-ignore', '-z', '--stdin'], `${rels.join('\0')}\0`);
    return out.split('\0').filter(Boolean);
  } catch {
    // Exit status 1: nothing is ignored.
    return [];
  }
}
