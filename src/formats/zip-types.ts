/** What the zip readers share: limits, the error they throw, one central-directory entry. */

export interface ZipLimits {
  maxEntries: number;
  maxCentralDirectoryBytes: number;
  /** Largest uncompressed/compressed ratio accepted for a deflated member. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 200_000, maxCentralDirectoryBytes: 64 * 1024 * 1024, maxRatio: 200 };

/** The loaders whose reading of an archive mlgate reproduces. */
export type ZipLoader = 'zipfile' | 'miniz';

/** How a finding names each loader: who reads archives that way. */
export const LOADER_NAMES: Record<ZipLoader, string> = {
  zipfile: "Python's zipfile (Keras, NumPy)",
  miniz: "PyTorch's reader (miniz)",
};

export interface ZipEntry {
  /** Name from the central directory, as the loader looks members up by it. */
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  /** Where the member's local header is, after any offset correction the loader makes. */
  localHeaderOffset: number;
  /** The loaders that see this member. */
  seenBy: ZipLoader[];
}

export class ZipError extends Error {
  override name = 'ZipError';
  constructor(
    message: string,
    /** A cap was reached (as opposed to a malformed archive). */
    readonly budget = false,
  ) {
    super(message);
  }
}
