import type { RemotePolicyRef } from './provider.js';

const REMOTE = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})\/([^@\s]+)@([^@\s]+)$/;

/** Parses `owner/repo/path@ref`; undefined for anything else (built-ins and local paths). */
export function parseRemoteRef(entry: string): RemotePolicyRef | undefined {
  if (entry.startsWith('./') || entry.startsWith('/') || entry.startsWith('mlgate:')) return undefined;
  const m = REMOTE.exec(entry);
  if (!m) return undefined;
  const [, owner, repo, path, ref] = m as unknown as [string, string, string, string, string];
  if (path.split('/').some((s) => s === '..' || s === '')) return undefined;
  return { owner, repo, path, ref };
}

export function formatRemoteRef(ref: RemotePolicyRef, path = ref.path): string {
  return `${ref.owner}/${ref.repo}/${path}@${ref.ref}`;
}

/**
 * A ref is pinned when it is a full commit SHA or looks like a release tag
 * (`v3.2.0`, `3.2`, `refs/tags/...`). Branch names move, so they are not.
 */
export function isPinnedRef(ref: string): boolean {
  return /^[0-9a-f]{40}$/.test(ref) || /^[0-9a-f]{64}$/.test(ref) || ref.startsWith('refs/tags/') || /^v?\d+(\.\d+){0,3}([-+][0-9A-Za-z.-]+)?$/.test(ref);
}
