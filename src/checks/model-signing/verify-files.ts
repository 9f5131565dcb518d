import { minimatch } from 'minimatch';
import type { HashPool } from '../../core/hash-pool.js';
import { DEFAULT_IGNORED, shardRanges, type Manifest, type ManifestEntry } from '../../formats/oms/manifest.js';
import type { FileEntry, Inventory } from '../../inventory/types.js';
import type { ModelRoot } from '../../inventory/model-roots.js';
import type { RuleFinding } from '../rule.js';

export { DEFAULT_IGNORED };

export interface FileCheckInput {
  root: ModelRoot;
  /** Repository path of the signature file. */
  signaturePath: string;
  manifest: Manifest;
  inventory: Inventory;
  pool: HashPool;
  /** Policy `ignore-paths`: model-root-relative paths, or globs. */
  ignorePaths: readonly string[];
  ignoreUnsigned: boolean;
  /** Model-relative paths of the links in the root: reported on their own, so not missing files too. */
  links?: readonly string[];
}

const under = (rel: string, p: string): boolean => rel === p || rel.startsWith(`${p}/`);
const normalise = (p: string): string => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
const GLOB_CHARS = /[*?[\]{}]/;

/** Policy `ignore-paths` as one test: plain entries cover a path and what is under it, globs match model-relative paths. */
export function policyIgnoreMatcher(ignorePaths: readonly string[]): (rel: string) => boolean {
  const globIgnores = ignorePaths.filter((p) => GLOB_CHARS.test(p));
  const plainIgnores = ignorePaths.filter((p) => !GLOB_CHARS.test(p)).map(normalise);
  return (rel) => plainIgnores.some((p) => under(rel, p)) || globIgnores.some((g) => minimatch(rel, g, { dot: true }));
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Files of the root as the signer saw them: model-relative path → inventory entry. */
function filesOnDisk(input: FileCheckInput, isPolicyIgnored: (rel: string) => boolean): Map<string, FileEntry> {
  const { root, inventory, signaturePath, manifest } = input;
  const disk = new Map<string, FileEntry>();
  if (root.kind === 'file') {
    const entry = inventory.get(root.path);
    if (entry) disk.set('.', entry);
    return disk;
  }
  const prefix = root.path === '.' ? '' : `${root.path}/`;
  const skipped = [...DEFAULT_IGNORED, ...manifest.ignorePaths.map(normalise).filter((p) => p !== '')];
  for (const p of root.files) {
    if (p === signaturePath) continue;
    const rel = p.slice(prefix.length);
    if (skipped.some((s) => under(rel, s)) || isPolicyIgnored(rel)) continue;
    const entry = inventory.get(p);
    if (entry) disk.set(rel, entry);
  }
  return disk;
}

const expectedShards = (size: number, shardSize: number): string[] => shardRanges(size, shardSize).map((r) => `${r.start}:${r.end}`);

interface Job {
  entry: FileEntry;
  start?: number;
  end?: number;
  check(hex: string): void;
}

/**
 * Compares the signed manifest with the files of the model root: each missing,
 * extra, renamed or changed file gets its own finding. Content is hashed on the
 * pool; a Git LFS pointer is answered by its oid when the signed digest is a
 * whole-file SHA-256.
 */
export async function verifyFiles(input: FileCheckInput): Promise<RuleFinding[]> {
  const { root, manifest, inventory, pool, signaturePath } = input;
  const findings: RuleFinding[] = [];
  const isPolicyIgnored = policyIgnoreMatcher(input.ignorePaths);
  const disk = filesOnDisk(input, isPolicyIgnored);
  const hashName = manifest.hashType;
  const sha256 = manifest.nodeHash === 'sha256';

  // Resource names of a single-file model are "." (v1.0) or the file name (v0.2).
  const toRel = (e: ManifestEntry) => (root.kind === 'file' && e.path === basename(root.path) ? '.' : e.path);
  if (root.kind === 'dir' && manifest.entries.some((e) => e.path === '.')) {
    findings.push({ code: 'unsupported-format', path: signaturePath, message: `${signaturePath} signs a single file, but ${root.path} is a directory model; point \`models\` at the signed file instead` });
    return findings;
  }
  const byPath = new Map<string, ManifestEntry[]>();
  const seen = new Set<string>();
  for (const e of manifest.entries) {
    if (seen.has(e.name)) {
      findings.push({ code: 'unsupported-format', path: signaturePath, message: `the signed manifest lists ${e.name} twice; re-sign the model` });
      return findings;
    }
    seen.add(e.name);
    const rel = toRel(e);
    if (rel !== '.' && isPolicyIgnored(rel)) continue;
    const list = byPath.get(rel);
    if (list) list.push(e);
    else byPath.set(rel, [e]);
  }
  const display = (rel: string) => (rel === '.' ? root.path : root.path === '.' ? rel : `${root.path}/${rel}`);
  const mismatched = new Set<string>();
  // One finding per file, however many of its shards differ.
  const mismatch = (rel: string, what: string): void => {
    if (mismatched.has(rel)) return;
    mismatched.add(rel);
    findings.push({
      code: 'digest-mismatch',
      path: display(rel),
      message: `${display(rel)} ${what}: it changed after the model was signed. Restore the signed content, or re-sign the model with model_signing and commit the new ${basename(signaturePath)}`,
    });
  };

  const jobs: Job[] = [];
  const missing: { rel: string; entries: ManifestEntry[] }[] = [];
  for (const [rel, entries] of byPath) {
    const file = disk.get(rel);
    if (!file) {
      missing.push({ rel, entries });
      continue;
    }
    if (manifest.method === 'files') {
      const e = entries[0]!;
      if (file.lfs) {
        if (!sha256) findings.push({ code: 'lfs-unverifiable', path: file.path, message: `${file.path} is a Git LFS pointer and the signature uses ${hashName}, which its sha256 oid cannot answer; fetch the LFS content before the check (actions/checkout with lfs: true) or sign with sha256` });
        else if (file.lfs.oid !== e.digest.toString('hex')) mismatch(rel, `(a Git LFS pointer, oid sha256:${file.lfs.oid.slice(0, 12)}…) does not match its signed digest ${e.digest.toString('hex').slice(0, 12)}…`);
        continue;
      }
      jobs.push({ entry: file, check: (hex) => void (hex !== e.digest.toString('hex') && mismatch(rel, `does not match its signed ${hashName} digest ${e.digest.toString('hex').slice(0, 12)}… (found ${hex.slice(0, 12)}…)`)) });
      continue;
    }
    const size = file.lfs ? file.lfs.size : file.size;
    const shards = [...entries].sort((a, b) => a.range!.start - b.range!.start);
    const signedRanges = shards.map((s) => `${s.range!.start}:${s.range!.end}`);
    // Count first: a tiny shard_size against a large file must not build millions of names.
    const count = Math.ceil(size / manifest.shardSize!);
    if (count !== shards.length || signedRanges.join(',') !== expectedShards(size, manifest.shardSize!).join(',')) {
      mismatch(rel, `is ${size} bytes but its signed shards cover ${shards.length > 0 ? shards.at(-1)!.range!.end : 0} bytes in ${shards.length} shard(s)`);
      continue;
    }
    if (file.lfs) {
      const only = shards.length === 1 ? shards[0]! : undefined;
      if (only && sha256) {
        if (file.lfs.oid !== only.digest.toString('hex')) mismatch(rel, `(a Git LFS pointer, oid sha256:${file.lfs.oid.slice(0, 12)}…) does not match its signed shard digest`);
      } else {
        findings.push({ code: 'lfs-shard-unverifiable', path: file.path, message: `${file.path} is a Git LFS pointer and is signed in ${shards.length} ${hashName} shards, which its oid cannot answer; fetch the LFS content before the check (actions/checkout with lfs: true)` });
      }
      continue;
    }
    for (const s of shards) {
      const { start, end } = s.range!;
      jobs.push({ entry: file, start, end, check: (hex) => void (hex !== s.digest.toString('hex') && mismatch(rel, `does not match its signed digest for bytes ${start}–${end} (shard ${s.name})`)) });
    }
  }

  // Files on disk the manifest does not list, left out of an empty file's zero shards.
  const extra = [...disk.entries()].filter(([rel, f]) => !byPath.has(rel) && !(manifest.method === 'shards' && !f.lfs && f.size === 0));
  const extraDigests = new Map<string, string>();
  if (missing.length > 0 && manifest.method === 'files') {
    for (const [rel, f] of extra) {
      if (f.lfs) {
        if (sha256) extraDigests.set(rel, f.lfs.oid);
      } else {
        jobs.push({ entry: f, check: (hex) => void extraDigests.set(rel, hex) });
      }
    }
  }

  jobs.sort((a, b) => (b.end ?? b.entry.size) - (b.start ?? 0) - ((a.end ?? a.entry.size) - (a.start ?? 0)));
  const results = await Promise.allSettled(jobs.map((j) => pool.hash({ file: inventory.abs(j.entry.path), start: j.start, end: j.end, algorithm: manifest.nodeHash })));
  results.forEach((r, i) => {
    const job = jobs[i]!;
    if (r.status === 'fulfilled') job.check(r.value.hex);
    else findings.push({ code: 'unreadable', path: job.entry.path, message: `${job.entry.path} could not be read to check its signed digest: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}` });
  });

  const extraByDigest = new Map<string, string[]>();
  for (const [rel, d] of [...extraDigests].reverse()) {
    const list = extraByDigest.get(d);
    if (list) list.push(rel);
    else extraByDigest.set(d, [rel]);
  }
  const renamedTo = new Set<string>();
  for (const m of missing) {
    const target = manifest.method === 'files' ? extraByDigest.get(m.entries[0]!.digest.toString('hex'))?.pop() : undefined;
    if (target !== undefined) {
      renamedTo.add(target);
      findings.push({ code: 'renamed-file', path: display(target), message: `${display(target)} has the signed content of ${display(m.rel)}, which is gone: the file was renamed after signing. Rename it back, or re-sign the model` });
      continue;
    }
    if ((input.links ?? []).some((l) => under(m.rel, l))) continue;
    findings.push({ code: 'missing-file', path: signaturePath, message: `${display(m.rel)} is signed in ${basename(signaturePath)} but missing from the model. Restore it, or re-sign the model without it` });
  }
  if (!input.ignoreUnsigned) {
    for (const [rel] of extra) {
      if (renamedTo.has(rel)) continue;
      findings.push({ code: 'extra-file', path: display(rel), message: `${display(rel)} is in the model but not in its signature. Re-sign the model to include it, remove it, or list it under ignore-paths (or set ignore-unsigned-files) if it is not part of the model` });
    }
  }
  return findings;
}
