import { readlink } from 'node:fs/promises';
import path from 'node:path';
import { modelName, WEIGHT_FILE_GLOBS, type ModelRoot } from '../../inventory/model-roots.js';
import { matchesAny } from '../../inventory/inventory.js';
import type { Inventory } from '../../inventory/types.js';
import type { RuleFinding } from '../rule.js';
import { DEFAULT_IGNORED } from './verify-files.js';

const TARGET_SHOWN_CHARS = 200;

const dirname = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '.');
const covers = (dir: string, p: string): boolean => dir === '.' || p === dir || p.startsWith(`${dir}/`);

/**
 * Default discovery finds models by their weight files, which the inventory
 * lists only when they are regular files: a weight file swapped for a link
 * would otherwise take its whole model out of the check.
 */
export function withLinkedWeightRoots(roots: ModelRoot[], links: readonly string[], inv: Inventory): ModelRoot[] {
  const out = [...roots];
  const dirs = links.filter((l) => matchesAny(l.slice(l.lastIndexOf('/') + 1), WEIGHT_FILE_GLOBS)).map(dirname);
  for (const d of [...new Set(dirs)].sort((a, b) => a.length - b.length || a.localeCompare(b))) {
    if (out.some((r) => r.kind === 'dir' && covers(r.path, d))) continue;
    out.push({ path: d, kind: 'dir', files: inv.files.filter((f) => covers(d, f.path)).map((f) => f.path) });
  }
  const all = out.sort((a, b) => a.path.localeCompare(b.path));
  return all.filter((r) => !all.some((o) => o !== r && o.kind === 'dir' && o.path !== r.path && covers(o.path, r.path)));
}

/**
 * Links inside a directory root, as model-relative paths, minus what model_signing
 * leaves out anyway (`.git`, `.github`, … at the root) and the policy's `ignore-paths`.
 */
export function linksInRoot(root: ModelRoot, links: readonly string[], isPolicyIgnored: (rel: string) => boolean): string[] {
  if (root.kind !== 'dir') return [];
  const prefix = root.path === '.' ? '' : `${root.path}/`;
  return links
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length))
    .filter((rel) => !DEFAULT_IGNORED.some((d) => rel === d || rel.startsWith(`${d}/`)) && !isPolicyIgnored(rel));
}

/** Where a link points, read without following it; quoted so a hostile target reads as one string. */
async function describeTarget(inv: Inventory, p: string): Promise<string> {
  try {
    const target = await readlink(path.join(inv.root, ...p.split('/')));
    const shown = target.length > TARGET_SHOWN_CHARS ? `${target.slice(0, TARGET_SHOWN_CHARS)}…` : target;
    return `points to ${JSON.stringify(shown)}`;
  } catch {
    return 'points to a target that could not be read';
  }
}

/** One error per link: model_signing refuses links unless told to follow them, and mlgate never follows them. */
export async function symlinkFindings(root: ModelRoot, rels: readonly string[], inv: Inventory, signaturePath: string, allowedBySigner: boolean): Promise<RuleFinding[]> {
  const sig = signaturePath.slice(signaturePath.lastIndexOf('/') + 1);
  const findings: RuleFinding[] = [];
  for (const rel of rels) {
    const p = root.path === '.' ? rel : `${root.path}/${rel}`;
    const why = allowedBySigner
      ? `the signer allowed symlinks, but mlgate never follows links, so what the model loads from it cannot be verified`
      : `a signed model may not contain links (model_signing refuses them), and whatever it points to is not covered by the signature, yet would be loaded with the model`;
    findings.push({
      code: 'symlink',
      path: p,
      message: `${p} is a symbolic link inside ${modelName(root.path, 'signed')} and ${await describeTarget(inv, p)}: ${why}. Replace the link with the file itself (or remove it) and re-sign the model, then commit the new ${sig}`,
    });
  }
  return findings;
}
