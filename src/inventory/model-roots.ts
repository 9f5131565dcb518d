import { minimatch } from 'minimatch';
import type { Inventory } from './types.js';

/** Weight-file names that make a directory a model root by default (DESIGN §4.1). */
export const WEIGHT_FILE_GLOBS = [
  '*.safetensors', '*.bin', '*.pt', '*.pth', '*.ckpt', '*.onnx', '*.gguf', '*.h5', '*.keras',
  '*.pkl', '*.joblib', '*.tflite', 'saved_model.pb',
];

export interface ModelRoot {
  /** Repository-relative path of the directory or single file. */
  path: string;
  kind: 'dir' | 'file';
  /** Inventory paths inside the root (the file itself for a single-file root). */
  files: string[];
}

/** How a message names a model root: `.` is "the model at the repository root", never "model .". */
export function modelName(path: string, adjective?: string): string {
  const a = adjective ? `${adjective} ` : '';
  return path === '.' ? `the ${a}model at the repository root` : `${adjective ? `the ${a}` : ''}model ${path}`;
}

/**
 * The globs above as a lookup: this runs on every file of the repository, for
 * several rules (a regular expression of `.*\.ext` alternatives backtracks on each name).
 */
const WEIGHT_EXTENSIONS = new Set(WEIGHT_FILE_GLOBS.filter((g) => g.startsWith('*.')).map((g) => g.slice(1)));
const WEIGHT_NAMES = new Set(WEIGHT_FILE_GLOBS.filter((g) => !g.includes('*')));
function isWeightFile(name: string): boolean {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  return (dot !== -1 && WEIGHT_EXTENSIONS.has(lower.slice(dot))) || WEIGHT_NAMES.has(lower);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i === -1 ? '.' : p.slice(0, i);
}

function filesUnder(inv: Inventory, dir: string): string[] {
  if (dir === '.') return inv.files.map((f) => f.path);
  const prefix = `${dir}/`;
  return inv.files.filter((f) => f.path.startsWith(prefix)).map((f) => f.path);
}

/**
 * Model roots: with globs, each match — a directory (any ancestor directory of
 * an inventory file) or a single file — is one root; without, every directory
 * that directly holds a weight file, outermost first so nested weight folders
 * belong to the root above them (a `saved_model/variables/` stays one model).
 */
export function discoverModelRoots(inv: Inventory, globs?: readonly string[]): ModelRoot[] {
  // Several rules ask for the same inventory's roots; each walks 100,000 files of a monorepo.
  const key = globs && globs.length > 0 ? globs.join('\0') : '';
  let memo = discovered.get(inv);
  if (!memo) discovered.set(inv, (memo = new Map()));
  let roots = memo.get(key);
  if (!roots) memo.set(key, (roots = discover(inv, globs)));
  return [...roots];
}

const discovered = new WeakMap<Inventory, Map<string, readonly ModelRoot[]>>();

function discover(inv: Inventory, globs?: readonly string[]): ModelRoot[] {
  const roots = new Map<string, ModelRoot>();
  if (globs && globs.length > 0) {
    const dirs = new Set<string>();
    for (const f of inv.files) for (let d = dirname(f.path); d !== '.'; d = dirname(d)) dirs.add(d);
    const matches = (p: string) => globs.some((g) => minimatch(p, g.replace(/\/+$/, ''), { dot: true }));
    for (const d of [...dirs].sort()) if (matches(d)) roots.set(d, { path: d, kind: 'dir', files: filesUnder(inv, d) });
    for (const f of inv.files) if (matches(f.path) && !roots.has(f.path)) roots.set(f.path, { path: f.path, kind: 'file', files: [f.path] });
  } else {
    const candidates = new Set<string>();
    for (const f of inv.files) if (isWeightFile(f.path.slice(f.path.lastIndexOf('/') + 1))) candidates.add(dirname(f.path));
    for (const d of [...candidates].sort((a, b) => a.length - b.length || a.localeCompare(b))) {
      const covered = [...roots.keys()].some((r) => r === '.' || d.startsWith(`${r}/`));
      if (!covered) roots.set(d, { path: d, kind: 'dir', files: filesUnder(inv, d) });
    }
  }
  // A root nested inside another matched root is part of the outer one.
  const all = [...roots.values()].sort((a, b) => a.path.localeCompare(b.path));
  return all.filter((r) => !all.some((o) => o !== r && o.kind === 'dir' && (o.path === '.' || r.path.startsWith(`${o.path}/`))));
}

/**
 * What a change to `path` invalidates for a rule that judges whole models: the
 * files of every root that holds it (a directory root's files, or a single-file
 * root with the files beside it, where its card and signature live). A model is
 * signed, carded and verified as one, so one changed file re-judges all of it.
 */
export function modelRootDependents(path: string, roots: readonly ModelRoot[], siblings: (dir: string) => readonly string[]): string[] {
  const out: string[] = [];
  for (const r of roots) {
    if (r.kind === 'dir' && (r.path === '.' || path === r.path || path.startsWith(`${r.path}/`))) out.push(...r.files);
    else if (r.kind === 'file' && dirname(path) === dirname(r.path)) out.push(...r.files, ...siblings(dirname(r.path) === '.' ? '' : dirname(r.path)));
  }
  return out;
}
