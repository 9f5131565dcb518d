import { atlas, type Rule, type RuleContext } from './rule.js';
import { matchesAny } from '../inventory/inventory.js';
import { compileAllowList } from '../formats/pickle/classify.js';
import { isPickleStart, readHead, scanModelFile, type Mode } from '../formats/pickle/model-file.js';
import { IS_OPCODE } from '../formats/pickle/opcodes.js';
import { looksLikeZipStart } from '../formats/zip.js';
import { looksLikeNpy } from '../formats/npy.js';
import type { FileEntry } from '../inventory/types.js';

export interface ModelFileSafetyParams {
  files?: string[];
  'allow-globals'?: string[];
  strict?: boolean;
  'deny-new-pickle'?: boolean;
  'sniff-other-files'?: boolean;
}

const PICKLE_EXT = ['pkl', 'pickle', 'pt', 'pth', 'ckpt', 'joblib', 'dill'];
export const DEFAULT_FILES = [
  `**/*.{${[...PICKLE_EXT, 'bin', 'npy', 'npz', 'keras', 'h5', 'hdf5', 'sav', 'model'].join(',')}}`,
  `**/*.{${PICKLE_EXT.join(',')}}.{gz,z,bz2,xz,lz4}`,
];

/** Extensions used for other formats too (GGUF `.bin`, SentencePiece `.model`, SPSS `.sav`, non-Keras HDF5): their content decides. */
const SHARED_EXT = /\.(bin|model|sav|h5|hdf5)$/i;
/** Never sniffed when outside `files`: text and source formats. */
const TEXT_EXT = /\.(py|pyi|ipynb|md|rst|txt|json|jsonl|ya?ml|toml|cfg|ini|csv|tsv|xml|html?|css|s?js|mjs|cjs|ts|tsx|jsx|sh|bash|c|cc|cpp|h|hpp|rs|go|java|kt|rb|php|pl|lua|r|sql|tex|svg|lock|gitignore|gitattributes|dockerfile|env|log|safetensors|onnx|gguf|png|jpe?g|gif|webp|pdf|parquet|arrow|feather|tfrecord|wav|mp3|mp4)$/i;
/** Files sniffed at most outside `files`, so a huge repository stays cheap. */
const MAX_SNIFFED = 100_000;

async function worthSniffing(abs: string): Promise<boolean> {
  const head = await readHead(abs, 16);
  return isPickleStart(head) || looksLikeZipStart(head) || looksLikeNpy(head) || (head.length >= 2 && IS_OPCODE[head[0]!] === 1);
}

async function run(ctx: RuleContext<ModelFileSafetyParams>): Promise<void> {
  const p = ctx.params;
  const globs = p.files ?? DEFAULT_FILES;
  const strict = p.strict ?? false;
  const sniffOthers = p['sniff-other-files'] ?? true;
  const denyNew = p['deny-new-pickle'] ?? true;
  const allow = compileAllowList(p['allow-globals'] ?? []);
  const inScope = (f: FileEntry): boolean => !ctx.changed || ctx.changed.changed.has(f.path);
  let sniffed = 0;
  for (const f of ctx.inventory.files) {
    if (!inScope(f)) continue;
    ctx.signal.throwIfAborted();
    const matched = matchesAny(f.path, globs);
    if (f.lfs) {
      // Only the pointer is checked out: the content is unknown, so say so rather than pass it.
      if (matched) {
        ctx.report({
          code: 'lfs-pointer-not-scanned',
          path: f.path,
          message: `${f.path} is stored in Git LFS and only its pointer is checked out, so its ${f.lfs.size}-byte content was not scanned: fetch LFS content in this job (actions/checkout with lfs: true), or store the weights as safetensors`,
          ...(strict ? {} : { maxLevel: 'warning' as const }),
        });
      }
      continue;
    }
    if (!matched && (!sniffOthers || TEXT_EXT.test(f.path) || f.size < 2)) continue;
    await ctx.guard(f.path, async () => {
      let mode: Mode | 'sniff' = matched && !SHARED_EXT.test(f.path) ? 'strict' : 'sniff';
      if (!matched) {
        if (++sniffed > MAX_SNIFFED) return;
        if (!(await worthSniffing(ctx.inventory.abs(f.path)))) return;
        mode = 'sniff';
      }
      const res = await scanModelFile(ctx.inventory.abs(f.path), mode, { allow, signal: ctx.signal, maxBytes: ctx.maxFileBytes });
      for (const i of res.issues) {
        ctx.report({
          code: i.code,
          path: f.path,
          message: i.message,
          ...(i.severity === 'warning' && !strict ? { maxLevel: 'warning' as const } : {}),
        });
      }
      if (denyNew && ctx.changed?.added.has(f.path) && res.hasPickle) {
        ctx.report({
          code: 'new-pickle',
          path: f.path,
          message: `${f.path} adds a pickle-based model file; pickles can run code when loaded. Save tensors as safetensors (safetensors.torch.save_file) and load with torch.load(..., weights_only=True) where a pickle is unavoidable`,
          ...(strict ? {} : { maxLevel: 'warning' as const }),
        });
      }
    });
  }
  if (sniffed > MAX_SNIFFED) {
    ctx.report({
      code: 'budget-exceeded',
      maxLevel: 'info',
      message: `only the first ${MAX_SNIFFED} files outside the configured globs were sniffed for pickle content; add the model paths to files: so they are always scanned`,
    });
  }
}

/** Protocol 0 (text) pickles, so the registry's text-only examples can hold them. */
const BENIGN = "(dp0\nS'w'\np1\nccollections\nOrderedDict\np2\n(tRp3\ns.";
const MALICIOUS = "cos\nsystem\n(S'echo pwned'\ntR.";

export const modelFileSafety: Rule<ModelFileSafetyParams> = {
  id: 'model-file-safety',
  title: 'Model files load no code',
  summary: 'Pickle-family model files (raw pickles, PyTorch, joblib, NumPy, Keras) import only allow-listed globals and carry no Lambda layers; found by content, scanned without unpickling.',
  defaultLevel: 'error',
  references: [atlas('AML.T0011.000'), atlas('AML.M0011'), atlas('AML.M0016')],
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      files: {
        type: 'array',
        items: { type: 'string', format: 'glob' },
        default: DEFAULT_FILES,
        description: 'Globs of files always scanned (content decides the format). Default: pickle-family extensions (.pkl .pickle .pt .pth .ckpt .joblib .dill .bin .npy .npz .keras .h5 .hdf5 .sav .model and compressed .pkl.gz etc.).',
      },
      'allow-globals': {
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(\\.\\*)?$', maxLength: 512 },
        default: [],
        description: 'Extra globals you reviewed and accept, as module.name or module.* (everything under that module). Never overrides the deny-list.',
      },
      strict: {
        type: 'boolean',
        default: false,
        description: 'Report globals that are not allow-listed, and new pickle files, at the rule level (error) instead of warning.',
      },
      'deny-new-pickle': {
        type: 'boolean',
        default: true,
        description: 'In changed mode, report every added file that holds a pickle, suggesting safetensors (warning, error with strict). Default true.',
      },
      'sniff-other-files': {
        type: 'boolean',
        default: true,
        description: 'Also open files outside files (except text and source formats) and scan those whose first bytes are a pickle, zip or .npy. Default true.',
      },
    },
  },
  tighten: { files: 'superset', 'allow-globals': 'subset', strict: 'true-stays', 'deny-new-pickle': 'true-stays', 'sniff-other-files': 'true-stays' },
  examples: {
    pass: {
      description: 'A state dict pickled with protocol 2 using only collections.OrderedDict.',
      files: { 'models/state.pkl': BENIGN },
      expect: [],
    },
    fail: {
      description: 'A protocol 0 pickle that calls os.system when loaded.',
      files: { 'models/evil.pkl': MALICIOUS },
      expect: ['dangerous-global'],
    },
  },
  budget: { ms: 300_000 },
  run,
};
