import { constants, type Dirent } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { policyIgnoreMatcher } from '../checks/model-signing/verify-files.js';
import { ConfigurationError } from '../core/errors.js';
import { LFS_POINTER_MAX_BYTES, parseLfsPointer } from '../formats/lfs.js';
import { DEFAULT_IGNORED, MAX_RESOURCES } from '../formats/oms/manifest.js';
import type { LfsPointer } from '../inventory/types.js';

export interface ModelFile {
  /** Model-relative path with `/` separators; `.` for a single-file model. */
  rel: string;
  abs: string;
  size: number;
  lfs?: LfsPointer;
}

export interface ModelListing {
  kind: 'file' | 'dir';
  files: ModelFile[];
  /** `serialization.ignore_paths` to record: what was left out, so a verifier leaves it out too. */
  ignorePaths: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;
const under = (rel: string, p: string): boolean => rel === p || rel.startsWith(`${p}/`);
const shown = (p: string) => JSON.stringify(p);

/** A user `--ignore-paths` entry as a model-relative path (absolute paths inside the model are accepted). */
export function toModelRelative(root: string, entry: string): string {
  const raw = path.isAbsolute(entry) ? path.relative(root, entry) : entry;
  const rel = raw.split(path.sep).join('/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (rel === '' || rel === '.' || rel.split('/').includes('..')) {
    throw new ConfigurationError(`--ignore-paths ${shown(entry)} is not a path inside the model root ${root}`);
  }
  return rel;
}

async function pointerOf(abs: string, size: number): Promise<LfsPointer | undefined> {
  if (size > LFS_POINTER_MAX_BYTES) return undefined;
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, 0);
    return parseLfsPointer(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

function unreadable(what: string, e: unknown): ConfigurationError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return new ConfigurationError(`${what}: ${why}`);
}

/**
 * The files of a model root as model_signing would sign them: every regular
 * file under a directory root, minus `.git`, `.github`, `.gitignore` and
 * `.gitattributes` at the top, the signature itself and the user's ignore
 * paths. A link or special file stops the signing (model_signing refuses
 * links by default, and mlgate never follows one).
 */
export async function listModelFiles(root: string, signatureAbs: string, ignorePaths: readonly string[]): Promise<ModelListing> {
  let stat;
  try {
    stat = await lstat(root);
  } catch (e) {
    throw unreadable(`model root ${root}`, e);
  }
  if (stat.isSymbolicLink()) throw new ConfigurationError(`model root ${root} is a symbolic link; sign the file or directory it points to`);
  if (stat.isFile()) return { kind: 'file', files: [{ rel: '.', abs: root, size: stat.size, lfs: await pointerOf(root, stat.size) }], ignorePaths: [] };
  if (!stat.isDirectory()) throw new ConfigurationError(`model root ${root} is neither a file nor a directory`);

  const user = ignorePaths.map((p) => (GLOB_CHARS.test(p) ? p : toModelRelative(root, p)));
  const isIgnored = policyIgnoreMatcher(user);
  const sigRel = path.relative(root, signatureAbs).split(path.sep).join('/');
  const sigInside = sigRel !== '' && !sigRel.startsWith('../') && sigRel !== '..' && !path.isAbsolute(sigRel);
  const recorded = new Set<string>(user.filter((p) => !GLOB_CHARS.test(p)));
  if (sigInside) recorded.add(sigRel);
  for (const d of DEFAULT_IGNORED) recorded.add(d);

  const files: ModelFile[] = [];
  const links: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, dir), { withFileTypes: true });
    } catch (e) {
      throw unreadable(`model directory ${path.join(root, dir)}`, e);
    }
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (dir === '' && DEFAULT_IGNORED.includes(e.name)) continue;
      if (sigInside && under(rel, sigRel)) continue;
      if (isIgnored(rel)) {
        // A glob is recorded as the paths it matched: model_signing reads ignore_paths literally.
        if (!recorded.has(rel) && ![...recorded].some((r) => under(rel, r))) recorded.add(rel);
        continue;
      }
      const abs = path.join(root, dir, e.name);
      if (e.isDirectory()) pending.push(rel);
      else if (e.isSymbolicLink()) links.push(rel);
      else if (e.isFile()) {
        if (files.length >= MAX_RESOURCES) throw new ConfigurationError(`model root ${root} holds more than ${MAX_RESOURCES} files; sign its model directories one by one`);
        try {
          const size = (await lstat(abs)).size;
          files.push({ rel, abs, size, lfs: await pointerOf(abs, size) });
        } catch (err) {
          throw unreadable(`model file ${abs}`, err);
        }
      } else throw new ConfigurationError(`${abs} is not a regular file (a socket, pipe or device); remove it from the model or list it under --ignore-paths`);
    }
  }
  if (links.length > 0) {
    throw new ConfigurationError(
      `the model holds symbolic links, which mlgate does not follow and model_signing refuses by default: ${links.slice(0, 5).map(shown).join(', ')}${links.length > 5 ? ` and ${links.length - 5} more` : ''}. Replace each with the file it points to, or list it under --ignore-paths`,
    );
  }
  return { kind: 'dir', files, ignorePaths: [...recorded] };
}
