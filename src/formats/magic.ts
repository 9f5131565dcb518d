import { isPickleStart } from './pickle/model-file.js';
import { compressionOf } from './pickle/compression.js';
import { looksLikeZipStart } from './zip.js';
import { looksLikeNpy } from './npy.js';
import { HDF5_MAGIC } from './keras.js';
import { looksLikeTar } from './tar.js';
import { SAFETENSORS_HEADER_MAX } from './safetensors.js';
import { GGUF_MAGIC } from './gguf.js';

/**
 * What a file's extension promises about its first bytes. A file whose
 * content is another format than its name says is format confusion: a loader
 * that goes by content (joblib, torch.load, np.load) reads what is really
 * there, while a reviewer trusts the name.
 */


const IMAGE_SIGNATURES: Array<(h: Buffer) => boolean> = [
  (h) => h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
  (h) => h.subarray(0, 6).toString('latin1') === 'GIF87a' || h.subarray(0, 6).toString('latin1') === 'GIF89a',
  (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
  (h) => h.subarray(0, 2).toString('latin1') === 'BM',
  (h) => h.subarray(0, 4).equals(Buffer.from([0x49, 0x49, 0x2a, 0x00])) || h.subarray(0, 4).equals(Buffer.from([0x4d, 0x4d, 0x00, 0x2a])),
];

/** Formats with a signature: the reason a head does not carry it, or undefined. */
const SIGNED: Array<{ ext: RegExp; what: string; ok: (h: Buffer, size: number) => boolean }> = [
  {
    ext: /\.safetensors$/i,
    what: "a safetensors file (an 8-byte little-endian header length, then the JSON header's '{')",
    ok: (h, size) => {
      if (h.length < 9) return false;
      const n = h.readBigUInt64LE(0);
      return n >= 2n && n <= BigInt(Math.min(SAFETENSORS_HEADER_MAX, size - 8)) && h[8] === 0x7b;
    },
  },
  { ext: /\.gguf$/i, what: "a GGUF file ('GGUF')", ok: (h) => h.subarray(0, 4).equals(GGUF_MAGIC) },
  { ext: /\.(png|jpe?g|gif|webp|bmp|tiff?)$/i, what: 'an image (PNG, JPEG, GIF, WebP, BMP or TIFF signature)', ok: (h) => IMAGE_SIGNATURES.some((sig) => sig(h)) },
  { ext: /\.npy$/i, what: 'a NumPy .npy array (\\x93NUMPY)', ok: (h) => looksLikeNpy(h) },
  { ext: /\.(npz|keras)$/i, what: 'a zip archive (PK)', ok: (h) => h.subarray(0, 2).toString('latin1') === 'PK' },
  { ext: /\.parquet$/i, what: "a Parquet file ('PAR1')", ok: (h) => h.subarray(0, 4).toString('latin1') === 'PAR1' },
  { ext: /\.tflite$/i, what: "a TensorFlow Lite model ('TFL3' at byte 4)", ok: (h) => h.subarray(4, 8).toString('latin1') === 'TFL3' },
];

/** Text, source and signature-less formats: they may be anything but one of the binary containers a loader opens. */
const UNSIGNED = /\.(py|pyi|ipynb|md|rst|txt|json|jsonl|ya?ml|toml|cfg|ini|csv|tsv|xml|html?|css|s?js|mjs|cjs|ts|tsx|jsx|sh|bash|c|cc|cpp|h|hpp|rs|go|java|kt|rb|php|pl|lua|r|sql|tex|svg|lock|env|log|onnx|pb|msgpack)$/i;

function container(h: Buffer): string | undefined {
  if (isPickleStart(h)) return 'a pickle';
  if (looksLikeZipStart(h)) return 'a zip archive (such as a PyTorch checkpoint)';
  if (looksLikeNpy(h)) return 'a NumPy .npy array';
  if (h.subarray(0, 8).equals(HDF5_MAGIC)) return 'an HDF5 file';
  const packed = compressionOf(h, false);
  // "x^" opens text as often as zlib at levels 2-5; the content scan still decompresses it.
  if (packed && !(packed === 'zlib' && h[1] === 0x5e)) return `a ${packed}-compressed stream`;
  if (looksLikeTar(h)) return 'a tar archive';
  return undefined;
}

/** Why a file's first bytes contradict its extension (a phrase after the path), or undefined when they agree or nothing is promised. */
export function checkFormat(path: string, head: Buffer, size: number): string | undefined {
  if (size === 0) return undefined;
  const signed = SIGNED.find((s) => s.ext.test(path));
  if (signed) {
    if (signed.ok(head, size)) return undefined;
    const really = container(head);
    return `is named like ${signed.what} but does not start like one${really ? `; it starts like ${really}` : ''}. A loader that goes by content reads what is really there; rename the file to what it holds or re-export it in the format its name says`;
  }
  if (UNSIGNED.test(path)) {
    const really = container(head);
    if (really) return `is named like a text or ${path.slice(path.lastIndexOf('.'))} file but starts like ${really}, which a loader that goes by content would open as that; rename the file to what it holds`;
  }
  return undefined;
}
