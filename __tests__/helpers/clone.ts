import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gitIn } from './repo.js';

const ROOT = path.resolve(__dirname, '../..');

/**
 * A temporary clone of mlgate as it stands in the working tree (uncommitted
 * edits included, so a test judges the code under test): every tracked or
 * unignored file, committed once, with node_modules linked, not copied.
 */
export async function cloneWorkingTree(dest: string): Promise<string> {
  const files = gitIn(ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0').filter(Boolean);
  for (const rel of files) {
    const to = path.join(dest, rel);
    await mkdir(path.dirname(to), { recursive: true });
    // A file deleted but not yet committed is listed by --cached; skip it.
    await copyFile(path.join(ROOT, rel), to).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  gitIn(dest, 'init', '-q', '-b', 'main');
  // .gitignore's `node_modules/` matches a directory, not the symlink.
  await writeFile(path.join(dest, '.git/info/exclude'), '/node_modules\n');
  await symlink(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'));
  gitIn(dest, 'add', '-A');
  gitIn(dest, 'commit', '-q', '-m', 'mlgate working tree');
  return dest;
}
