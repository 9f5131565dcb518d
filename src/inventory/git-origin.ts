import { git } from './git.js';

/** `owner/name` as GitHub spells it: the owner has no dots or underscores, the name may. */
export const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

export interface OriginRepository {
  name: string;
  /** The web page, when the remote is on a host we can name (https or ssh). */
  url: string | null;
}

/**
 * The `owner/name` a remote URL points at: `https://github.com/o/n(.git)`,
 * `git@github.com:o/n.git`, `ssh://git@host/o/n`. Anything else (a local path,
 * a file:// URL, a host with a deeper path) is not a repository we can name.
 */
export function parseRemoteUrl(remote: string): OriginRepository | undefined {
  const text = remote.trim();
  let host: string;
  let rest: string;
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/)(.+)$/.exec(text);
  if (scp) {
    host = scp[1]!;
    rest = scp[2]!;
  } else {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return undefined;
    }
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(u.protocol) || !u.hostname) return undefined;
    host = u.hostname;
    rest = u.pathname.replace(/^\//, '');
  }
  const name = rest.replace(/\/$/, '').replace(/\.git$/, '');
  if (!REPOSITORY_NAME.test(name)) return undefined;
  return { name, url: `https://${host}/${name}` };
}

/** The `origin` remote, HEAD's commit and its branch, each when the checkout has it. */
export async function originAndHead(root: string): Promise<{ origin?: OriginRepository; commit: string | null; ref: string | null }> {
  const quiet = (args: string[]) => git(root, args).then((s) => s.trim() || null, () => null);
  const [remote, commit, ref] = await Promise.all([quiet(['remote', 'get-url', 'origin']), quiet(['rev-parse', '--verify', '-q', 'HEAD']), quiet(['symbolic-ref', '-q', 'HEAD'])]);
  const origin = remote ? parseRemoteUrl(remote) : undefined;
  return { ...(origin ? { origin } : {}), commit, ref };
}
