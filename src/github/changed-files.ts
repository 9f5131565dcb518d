import type { ChangeList } from '../inventory/changed.js';
import { git } from '../inventory/git.js';
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
  let out: string;
  try {
    out = await git(root, ['diff', '--name-status', '-M', '-z', '--no-ext-diff', '--no-textconv', `${base}...${head}`, '--']);
  } catch {
    // No merge base (unrelated or truncated history).
    return undefined;
  }
  return parseNameStatus(out);
}

/** Parses `git diff --name-status -M -z`: `S\0path\0`, or `R<score>\0old\0new\0` for renames and copies. */
export function parseNameStatus(out: string): MutableChangeList {
  const list = emptyChangeList();
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; ) {
    const status = parts[i++] ?? '';
    if (status === '') continue;
    const kind = status[0];
    if (kind === 'R' || kind === 'C') {
      const from = parts[i++];
      const to = parts[i++];
      if (from === undefined || to === undefined) break;
      if (kind === 'R') list.renamed.push([to, from]);
      else list.added.push(to);
      continue;
    }
    const file = parts[i++];
    if (file === undefined) break;
    if (kind === 'A') list.added.push(file);
    else if (kind === 'D') list.deleted.push(file);
    else list.modified.push(file); // M, T (type change), U, X
  }
  return list;
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
  return { changes: list, listed, capped };
}
