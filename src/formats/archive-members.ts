/**
 * Member names of tar and zip archives that leave the directory they are
 * extracted into ("zip slip"): whoever unpacks a model bundle with a tool
 * that trusts names (Python's tarfile before the 3.12 filters, many zip
 * extractors, `shutil.unpack_archive`) writes outside the target, e.g. over
 * `~/.bashrc` or a site-packages module.
 */

/** Why a member name escapes the extraction directory, or undefined. */
export function memberNameEscape(name: string): string | undefined {
  if (name.startsWith('/') || name.startsWith('\\')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a Windows drive';
  if (name.split(/[\\/]/).includes('..')) return "climbs out with '..'";
  return undefined;
}

/** Tar type flags for links: a symlink or hard link member makes a later member (or the link itself) write anywhere. */
const LINK_TYPES: Record<string, string> = { '1': 'hard link', '2': 'symbolic link' };

/** Why a tar member escapes (its name, or it is a link), or undefined. */
export function tarMemberEscape(m: { name: string; type: string; linkname: string }): string | undefined {
  const byName = memberNameEscape(m.name);
  if (byName) return byName;
  const link = LINK_TYPES[m.type];
  return link ? `is a ${link} to ${JSON.stringify(m.linkname.slice(0, 200))}` : undefined;
}
