import { matchesAny } from '../../inventory/inventory.js';
import { isPickleStart } from '../../formats/pickle/model-file.js';
import { IS_OPCODE } from '../../formats/pickle/opcodes.js';
import { compressionOf } from '../../formats/pickle/compression.js';
import { looksLikeZipStart } from '../../formats/zip.js';
import { looksLikeNpy } from '../../formats/npy.js';
import { HDF5_MAGIC } from '../../formats/keras.js';
import { looksLikeTar } from '../../formats/tar.js';

/**
 * The model formats `allow-formats` and `deny-formats` name, and how a file
 * is assigned one: by its content where the format has a signature, by its
 * name where it has none (ONNX, SavedModel). Files that are no model format
 * (source, text, images) have none and are never judged by these parameters.
 */

export const MODEL_FORMATS = ['pickle', 'pytorch', 'joblib', 'numpy', 'keras-h5', 'keras', 'savedmodel', 'onnx', 'gguf', 'safetensors', 'tflite', 'tar', 'zip', 'compressed'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** One line per format, for the docs and the parameter's description. */
export const MODEL_FORMAT_DOCS: Record<ModelFormat, string> = {
  pickle: 'a raw pickle (.pkl, .pickle, .dill, or any file that starts like one)',
  pytorch: 'a PyTorch checkpoint: a pickle or zip named .pt, .pth, .ckpt or .bin',
  joblib: 'a joblib file (.joblib, compressed or not)',
  numpy: 'a NumPy .npy array or .npz archive',
  'keras-h5': 'an HDF5 file (Keras .h5 / .hdf5 models and any other HDF5)',
  keras: 'a Keras v3 .keras archive',
  savedmodel: 'a TensorFlow SavedModel graph (saved_model.pb) or its Keras metadata (keras_metadata.pb)',
  onnx: 'an ONNX model (.onnx)',
  gguf: 'a GGUF file (GGUF signature)',
  safetensors: 'a safetensors file (an 8-byte header length, then a JSON header)',
  tflite: 'a TensorFlow Lite model (TFL3 signature)',
  tar: 'a tar archive',
  zip: 'any other zip archive',
  compressed: 'a gzip, zlib, bzip2, xz, lz4 or zstd stream not named as one of the above',
};

const TORCH_NAME = /\.(pt|pth|ckpt|bin)$/i;
const JOBLIB_NAME = /\.joblib(\.(gz|z|bz2|xz|lzma|lz4))?$/i;
const PICKLE_NAME = /\.(pkl|pickle|dill)(\.(gz|z|bz2|xz|lzma|lz4))?$/i;
const SAFETENSORS_HEADER_MAX = 100_000_000;

function looksLikeSafetensors(h: Buffer, size: number): boolean {
  if (h.length < 9 || h[8] !== 0x7b) return false;
  const n = h.readBigUInt64LE(0);
  return n >= 2n && n <= BigInt(Math.min(SAFETENSORS_HEADER_MAX, size - 8));
}

/** The model format of a file from its path and first bytes (512 are enough), or undefined when it is none. */
export function formatOf(path: string, head: Buffer, size: number): ModelFormat | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === 'saved_model.pb' || base === 'keras_metadata.pb') return 'savedmodel';
  if (/\.onnx$/i.test(base)) return 'onnx';
  if (size === 0) return undefined;
  // Before the pickle test: a header length of 0x2_80 starts with what reads as PROTO 2.
  if (looksLikeSafetensors(head, size)) return 'safetensors';
  if (head.subarray(0, 4).toString('latin1') === 'GGUF') return 'gguf';
  if (head.subarray(4, 8).toString('latin1') === 'TFL3') return 'tflite';
  if (head.subarray(0, 8).equals(HDF5_MAGIC)) return 'keras-h5';
  if (looksLikeNpy(head)) return 'numpy';
  if (looksLikeZipStart(head)) {
    if (/\.keras$/i.test(base)) return 'keras';
    if (/\.npz$/i.test(base)) return 'numpy';
    if (TORCH_NAME.test(base)) return 'pytorch';
    return JOBLIB_NAME.test(base) ? 'joblib' : 'zip';
  }
  if (JOBLIB_NAME.test(base) && (isPickleStart(head) || compressionOf(head, true) !== undefined || IS_OPCODE[head[0]!] === 1)) return 'joblib';
  if (compressionOf(head, false) !== undefined) return PICKLE_NAME.test(base) ? 'pickle' : TORCH_NAME.test(base) ? 'pytorch' : 'compressed';
  if (looksLikeTar(head)) return TORCH_NAME.test(base) ? 'pytorch' : 'tar';
  if (isPickleStart(head) || ((PICKLE_NAME.test(base) || TORCH_NAME.test(base)) && IS_OPCODE[head[0]!] === 1)) return TORCH_NAME.test(base) ? 'pytorch' : 'pickle';
  return undefined;
}

const BY_NAME: Array<[RegExp, ModelFormat]> = [
  [/(^|\/)(saved_model|keras_metadata)\.pb$/, 'savedmodel'],
  [/\.safetensors$/i, 'safetensors'],
  [/\.gguf$/i, 'gguf'],
  [/\.onnx$/i, 'onnx'],
  [/\.tflite$/i, 'tflite'],
  [/\.keras$/i, 'keras'],
  [/\.(h5|hdf5)$/i, 'keras-h5'],
  [/\.(npy|npz)$/i, 'numpy'],
  [JOBLIB_NAME, 'joblib'],
  [/\.(pt|pth|ckpt)$/i, 'pytorch'],
  [PICKLE_NAME, 'pickle'],
  [/\.tar$/i, 'tar'],
];

/** The format a file's name promises, for a Git LFS pointer whose content is not checked out. */
export function formatByName(path: string): ModelFormat | undefined {
  return BY_NAME.find(([re]) => re.test(path))?.[1];
}

/** `glob → formats` as the policy writes it. */
export type FormatMap = Readonly<Record<string, readonly string[]>>;

/** Why the policy refuses a file of `format` at `path` (a sentence after the path), or undefined. */
export function formatPolicyProblem(path: string, format: ModelFormat, allow: FormatMap, deny: FormatMap): string | undefined {
  for (const [glob, formats] of Object.entries(deny)) {
    if (formats.includes(format) && matchesAny(path, [glob])) {
      return `is ${MODEL_FORMAT_DOCS[format]}, a format deny-formats forbids under ${JSON.stringify(glob)}`;
    }
  }
  for (const [glob, formats] of Object.entries(allow)) {
    if (!formats.includes(format) && matchesAny(path, [glob])) {
      return `is ${MODEL_FORMAT_DOCS[format]}, but allow-formats allows only ${formats.length ? formats.join(', ') : 'no model format'} under ${JSON.stringify(glob)}`;
    }
  }
  return undefined;
}

/** The fix, by what the file is. */
export function formatFix(format: ModelFormat): string {
  const pickled = format === 'pickle' || format === 'pytorch' || format === 'joblib' || format === 'numpy' || format === 'compressed' || format === 'tar' || format === 'zip';
  return pickled
    ? 'Convert the weights to an allowed format (for PyTorch: safetensors.torch.save_file; for other frameworks: export to ONNX or safetensors), or move the file to a path whose policy allows it'
    : 'Convert the model to a format the policy allows, or move the file to a path whose policy allows it';
}
