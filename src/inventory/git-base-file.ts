import { git } from './git.js';

/** Larger blobs are not read for waiver comments: the base then does not vouch for them. */
const MAX_BASE_BYTES = 2 * 1024 * 1024;

/**
 * A file as it is at the merge base of `rev` and `head` (HEAD by default) —
 * the commit `--base` compares with — or undefined when that commit does not
 * have it as a file.
 */
export function gitBaseFile(root: string, rev: string, head?: string): (path: string) => Promise<string | undefined> {
  let base: Promise<string> | undefined;
  return async (file) => {
    base ??= git(root, ['merge-base', rev, head ?? 'HEAD']).then((s) => s.trim());
    const spec = `${await base}:${file}`;
    let type: string;
    try {
      type = (await git(root, ['cat-file', '-t', spec])).trim();
    } catch {
      return undefined; // not in that commit
    }
    if (type !== 'blob') return undefined;
    const size = Number((await git(root, ['cat-file', '-s', spec])).trim());
    if (!(size <= MAX_BASE_BYTES)) throw new Error(`${file} at ${rev} is larger than ${MAX_BASE_BYTES} bytes`);
    return git(root, ['cat-file', 'blob', spec], MAX_BASE_BYTES + 1024);
  };
}
