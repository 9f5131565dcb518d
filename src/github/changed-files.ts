import type { ChangeList } from '../inventory/changed.js';
import { git } from '../inventory/git.js';
import { gitChanges } from '../inventory/git-changes.js';
import type { GitHubClient } from './client.js';
import type { Repo } from './event.js';

/** The pulls "list files" API returns at most this many files, whatever the PR's size. */
export const API_FILE_CAP = 3000;

export interface MutableChangeList {
  added: string[];
  modified: string[];
  deleted: string[];
  renamed: Array<[string, string]>;
}

export function emptyChangeList(): MutableChangeList {
  return { added: [], modified: [], deleted: [], renamed: [] };
}

/** True when the checkout holds the commit (a shallow checkout of the merge commit usually lacks the base). */
export async function hasCommit(root: string, sha: string): Promise<boolean> {
  try {
    await git(root, ['cat-file', '-e', `${sha}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * What changed between the merge base of `base` and `head`, from local git, or
 * undefined when the checkout lacks the history to say.
 */
export async function changesFromGit(root: string, base: string, head: string): Promise<ChangeList | undefined> {
  if (!(await hasCommit(root, base)) || !(await hasCommit(root, head))) return undefined;
  try {
    return await gitChanges(root, base, head);
  } catch {
    // No merge base (unrelated or truncated history).
    return undefined;
  }
}

export interface ApiChanges {
  changes: ChangeList;
  /** How many files the API listed. */
  listed: number;
  /** The API stopped at its cap (or listed fewer files than the PR changes): the list is incomplete. */
  capped: boolean;
}

/** The pulls "list files" API, 100 a page, with renames and their previous names. */
export async function changesFromApi(client: GitHubClient, repo: Repo, pullNumber: number, expected?: number): Promise<ApiChanges> {
  const list = emptyChangeList();
  let listed = 0;
  const pages = client.paginate.iterator(client.rest.pulls.listFiles, { ...repo, pull_number: pullNumber, per_page: 100 });
  for await (const page of pages) {
    for (const f of page.data) {
      listed++;
      switch (f.status) {
        case 'added':
        case 'copied':
          list.added.push(f.filename);
          break;
        case 'removed':
          list.deleted.push(f.filename);
          break;
        case 'renamed':
          if (f.previous_filename) list.renamed.push([f.filename, f.previous_filename]);
          else list.added.push(f.filename);
          break;
        case 'unchanged':
          break;
        default:
          list.modified.push(f.filename);
      }
    }
  }
  const capped = listed >= API_FILE_CAP || (expected !== undefined && expected > listed);
  // A pull request is two commits: what an earlier step left untracked in the workspace is no part of it (as from git).
  return { changes: { ...list, untracked: [] }, listed, capped };
}
