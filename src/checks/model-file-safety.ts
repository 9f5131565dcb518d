import { LfsPointers } from './model-file/lfs-pointers.js';
import { atlas, type Rule, type RuleContext } from './rule.js';
import { matchesAny } from '../inventory/inventory.js';
import { compileAllowList } from '../formats/pickle/classify.js';
import { headRulesOutPickle, isPickleStart, scanModelFile, type Mode } from '../formats/pickle/model-file.js';
import { compressionOf } from '../formats/pickle/compression.js';
import { IS_OPCODE } from '../formats/pickle/opcodes.js';
import { looksLikeZipStart } from '../formats/zip.js';
import { looksLikeNpy } from '../formats/npy.js';
import { HDF5_MAGIC } from '../formats/keras.js';
import { TAR_BLOCK, looksLikeTar } from '../formats/tar.js';
import { checkFormat } from '../formats/magic.js';
import { SIGNED_HEADER_FORMATS, headerFormatOfFile, settleHeaderFormat } from './model-file/header-formats.js';
import { otherFormats, type OtherFormatParams } from './model-file/dispatch.js';
import { OTHER_FORMAT_PROPERTIES, OTHER_FORMAT_TIGHTEN } from './model-file/params.js';

export interface ModelFileSafetyParams extends OtherFormatParams {
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
/** Weight formats that are not pickles but may be swapped for one: an LFS pointer of one is as unscanned as a `.pt`. */
const WEIGHT_EXT = /\.(safetensors|onnx|gguf|tflite|msgpack|pb)$/i;
/**
 * A compressed file whose name says it holds plain data (`train.csv.xz`) is
 * explained even when mlgate cannot decompress it; anything else compressed
 * with an undecodable method fails closed.
 */
const COMPRESSED_DATA = /\.(csv|tsv|jsonl?|txt|xml|sql|log|parquet|arrow|fasta|fastq|fa|vcf|bed|sam|wav|flac)\.(xz|lzma|bz2|zst|zstd|lz4)$/i;
const COMPRESSION_EXT: Record<string, string> = { xz: 'xz', lzma: 'lzma', bz2: 'bzip2', zst: 'zstd', zstd: 'zstd', lz4: 'lz4' };
/**
 * Files outside `files` scanned by content at most (an object so a test can
 * lower it); every file's first bytes are read, and over the cap the rule
 * fails closed, so decoys cannot hide one.
 */
export const SNIFF_LIMIT = { files: 100_000 };

/** Whether a file's first bytes start a pickle, an archive, a compressed stream, or anything a loader reads by content. */
function worthScanning(head: Buffer): boolean {
  return (
    isPickleStart(head) ||
    looksLikeZipStart(head) ||
    looksLikeNpy(head) ||
    head.subarray(0, 8).equals(HDF5_MAGIC) ||
    compressionOf(head, false) !== undefined ||
    looksLikeTar(head) ||
    IS_OPCODE[head[0]!] === 1
  );
}

function explainedCompression(p: string, head: Buffer): boolean {
  const m = COMPRESSED_DATA.exec(p);
  return m !== null && COMPRESSION_EXT[m[2]!.toLowerCase()] === compressionOf(head, false);
}

async function run(ctx: RuleContext<ModelFileSafetyParams>): Promise<void> {
  const p = ctx.params;
  const globs = p.files ?? DEFAULT_FILES;
  const strict = p.strict ?? false;
  const sniffOthers = p['sniff-other-files'] ?? true;
  const denyNew = p['deny-new-pickle'] ?? true;
  const allow = compileAllowList(p['allow-globals'] ?? []);
  const submodules = ctx.inventory.submodules ?? [];
  // A submodule whose commit changed brings in every file under it.
  const changedSubmodules = ctx.changed ? submodules.filter((s) => ctx.changed!.changed.has(s.path)).map((s) => `${s.path}/`) : [];
  const inScope = (path: string): boolean => !ctx.changed || ctx.changed.changed.has(path) || changedSubmodules.some((d) => path.startsWith(d));
  for (const s of submodules) {
    if (s.checkedOut || !inScope(s.path)) continue;
    ctx.report({
      code: 'submodule-not-scanned',
      path: s.path,
      message: `${s.path} is a git submodule that is not checked out, so mlgate could not look inside it and any model file it holds was not scanned: check submodules out in this job (actions/checkout with submodules: true) so they are scanned like the rest of the repository, or run mlgate on that repository itself`,
    });
  }
  let sniffed = 0;
  const lfsPointers = new LfsPointers();
  const other = otherFormats(ctx, allow);
  for (const f of ctx.inventory.files) {
    if (!inScope(f.path)) continue;
    ctx.signal.throwIfAborted();
    await ctx.guard(f.path, () => other(f));
    const matched = matchesAny(f.path, globs);
    if (f.lfs) {
      // Only the pointer is checked out: the content is unknown, so the file fails closed.
      if (matched || WEIGHT_EXT.test(f.path)) lfsPointers.add(f.path, f.lfs.size);
      continue;
    }
    // By name first: only a `.bin` is opened to tell GGUF apart, and only a header format costs a size.
    const known = await headerFormatOfFile(f.path, ctx.inventory);
    if (known && f.size >= 2 && (await settleHeaderFormat(known, f.path, ctx))) continue;
    if (!matched && !sniffOthers) continue;
    await ctx.guard(f.path, async () => {
      const abs = ctx.inventory.abs(f.path);
      // A header format in `files` is read by its own checker: the pickle scan only looks for a pickle in it.
      let mode: Mode | 'sniff' = matched && !SHARED_EXT.test(f.path) && !known ? 'strict' : 'sniff';
      if (!matched) {
        // Through the run's shared reader: a small file read here is not read again by the rule that parses it, and its size comes with it.
        const head = await ctx.inventory.readHead(f.path, TAR_BLOCK);
        if (f.size < 2) return;
        const mismatch = known && SIGNED_HEADER_FORMATS.has(known) ? undefined : checkFormat(f.path, head, f.size);
        if (mismatch) ctx.report({ code: 'format-mismatch', path: f.path, message: `${f.path} ${mismatch}` });
        if (!worthScanning(head) || explainedCompression(f.path, head) || (await headRulesOutPickle(head))) return;
        if (++sniffed > SNIFF_LIMIT.files) return;
        mode = 'sniff';
      }
      const res = await scanModelFile(abs, mode, { allow, signal: ctx.signal, maxBytes: ctx.maxFileBytes });
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
  for (const finding of lfsPointers.findings()) ctx.report(finding);
  if (sniffed > SNIFF_LIMIT.files) {
    ctx.report({
      code: 'budget-exceeded',
      message: `${sniffed} files outside files: start like a pickle, an archive or a compressed stream; only the first ${SNIFF_LIMIT.files} were scanned, so the rest could hide a pickle and the rule fails closed. Add the model paths to files: or move data that is not loaded as a model under paths.exclude`,
    });
  }
}

/** Protocol 0 (text) pickles, so the registry's text-only examples can hold them. */
const BENIGN = "(dp0\nS'w'\np1\nccollections\nOrderedDict\np2\n(tRp3\ns.";
const MALICIOUS = "cos\nsystem\n(S'echo pwned'\ntR.";

export const modelFileSafety: Rule<ModelFileSafetyParams> = {
  id: 'model-file-safety',
  title: 'Model files load no code',
  summary: 'Model files cannot run code when loaded: pickle-family files (raw pickles, PyTorch, joblib, NumPy) import only allow-listed globals; Keras, SavedModel, ONNX, GGUF, safetensors, chat templates and archives are read with hard bounds; nothing is unpickled.',
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
        description: 'Also read the first bytes of every file outside files: check known formats (safetensors, GGUF, images, text) against their signature, and scan those that start like a pickle, archive or compressed stream. Default true.',
      },
      ...OTHER_FORMAT_PROPERTIES,
    },
  },
  tighten: { files: 'superset', 'allow-globals': 'subset', strict: 'true-stays', 'deny-new-pickle': 'true-stays', 'sniff-other-files': 'true-stays', ...OTHER_FORMAT_TIGHTEN },
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
