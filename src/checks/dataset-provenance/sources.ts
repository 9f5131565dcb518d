/** Host of a source: a URL's host name (an `s3://`/`gs://` bucket counts as the host), or an scp-style git remote's host. */
export function sourceHost(source: string): string | undefined {
  const v = source.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      const host = new URL(v).hostname.toLowerCase().replace(/\.$/, '');
      return host || undefined;
    } catch {
      return undefined;
    }
  }
  const scp = /^[\w.-]+@([A-Za-z0-9.-]+):/.exec(v);
  return scp ? scp[1]!.toLowerCase() : undefined;
}

/**
 * An allow-list entry is a host name matched exactly; `*.example.com` matches
 * the subdomains of example.com (not example.com itself). Exact by default
 * because on shared hosts a subdomain is someone else's (`evil.s3.amazonaws.com`).
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/\.$/, '');
    if (e.startsWith('*.')) return host.endsWith(e.slice(1)) && host.length > e.length - 1;
    return host === e;
  });
}
