import { sha256File } from '../../core/hash.js';
import type { Inventory } from '../../inventory/types.js';
import { DEFAULT_DATASET_GLOBS, DEFAULT_MAX_HASH_BYTES, isDatasetFile, PROVENANCE_FILE } from './params.js';
import { dirOf } from './records.js';

export interface StarterFile {
  /** Repository path of the PROVENANCE.yml to write. */
  path: string;
  text: string;
}

/** Dataset files a starter record would list: glob matches, records, code and configuration excluded. */
export function starterDatasets(inventory: Inventory, globs: readonly string[] = DEFAULT_DATASET_GLOBS): string[] {
  return inventory.match(globs).filter((f) => isDatasetFile(f.path, globs)).map((f) => f.path);
}

/** `data/**` → `data`: the directory a whole-directory glob names, if the glob has no other wildcard. */
function globRoots(globs: readonly string[]): string[] {
  return globs.map((g) => /^([^*?{}[\]!]+)\/\*\*$/.exec(g)?.[1]).filter((r): r is string => r !== undefined).sort((a, b) => a.length - b.length);
}

const yamlKey = (k: string): string => (/^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(k) ? k : JSON.stringify(k));

/**
 * Starter `PROVENANCE.yml` files for `mlgate init`: one per top dataset
 * directory (the directory a `dir/**` glob names, else the file's own
 * directory), with TODO placeholders the rule keeps reporting until they are
 * filled in, and each file's sha256 — from `hashes`, else its Git LFS oid,
 * else TODO. Directories that already hold a PROVENANCE.yml are left alone.
 * Pure: hashing is the caller's (see `starterHashes`).
 */
export function starterProvenance(inventory: Inventory, hashes: ReadonlyMap<string, string> = new Map(), globs: readonly string[] = DEFAULT_DATASET_GLOBS): StarterFile[] {
  const roots = globRoots(globs);
  const groups = new Map<string, string[]>();
  for (const p of starterDatasets(inventory, globs)) {
    const top = roots.find((r) => p.startsWith(`${r}/`)) ?? dirOf(p);
    const g = groups.get(top);
    if (g) g.push(p);
    else groups.set(top, [p]);
  }
  const out: StarterFile[] = [];
  for (const [dir, files] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const path = dir ? `${dir}/${PROVENANCE_FILE}` : PROVENANCE_FILE;
    if (inventory.get(path)) continue;
    const lines = [
      `# Provenance of the datasets under ${dir || 'the repository root'}, checked by mlgate's dataset-provenance rule.`,
      '# Replace every TODO, and update the digests whenever the data changes.',
      'source: TODO              # URL the data came from, e.g. https://huggingface.co/datasets/acme/reviews',
      'license: TODO             # SPDX id, e.g. CC-BY-4.0',
      'collected: TODO           # date or range, e.g. 2026-05-02 or 2026-01-01/2026-03-31',
      'collection-process: TODO  # how it was collected and cleaned',
      'files:',
      ...files.sort().map((f) => {
        const digest = hashes.get(f) ?? inventory.get(f)?.lfs?.oid ?? 'TODO';
        return `  ${yamlKey(dir ? f.slice(dir.length + 1) : f)}: {sha256: ${digest}}`;
      }),
      '',
    ];
    out.push({ path, text: lines.join('\n') });
  }
  return out;
}

/** SHA-256 of the starter's dataset files (streamed; LFS pointers and files over `maxBytes` skipped). */
export async function starterHashes(inventory: Inventory, paths: readonly string[], maxBytes = DEFAULT_MAX_HASH_BYTES): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of paths) {
    const f = inventory.get(p);
    if (!f || f.lfs || f.size > maxBytes) continue;
    out.set(p, (await sha256File(inventory.abs(p))).hex);
  }
  return out;
}
