/**
 * Enough for the distance between two rules reading the same files in the same
 * order (model-file-safety's sniff, then the Python rules' parse), small beside
 * the 256 MiB a run may use.
 */
export const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * File contents shared by every rule of a run, keyed by repository path and
 * bounded in bytes: a Python module is read once whether one rule or three
 * need it. Least recently used contents go first; files above `maxFileBytes`
 * are never kept (they are few, and streamed or parsed once anyway).
 */
export class ContentCache {
  private readonly entries = new Map<string, Buffer>();
  private held = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxBytes = DEFAULT_CACHE_BYTES,
    readonly maxFileBytes = 1024 * 1024,
  ) {}

  get(path: string): Buffer | undefined {
    const b = this.entries.get(path);
    if (b === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(path);
    this.entries.set(path, b);
    return b;
  }

  put(path: string, bytes: Buffer): void {
    if (bytes.length > this.maxFileBytes || bytes.length > this.maxBytes || this.entries.has(path)) return;
    this.entries.set(path, bytes);
    this.held += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= v.length;
    }
  }

  /** Bytes held now (never above maxBytes). */
  get size(): number {
    return this.held;
  }
}
