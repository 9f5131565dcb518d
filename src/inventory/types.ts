/** A Git LFS pointer file's content (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md). */
export interface LfsPointer {
  /** Lower-case hex SHA-256 of the real content. */
  oid: string;
  /** Size in bytes of the real content. */
  size: number;
}

export interface FileEntry {
  /** POSIX path relative to the repository root, never `..`, never absolute. */
  path: string;
  /** Size on disk (of the pointer, for an LFS pointer). */
  size: number;
  /** Set when the file on disk is a Git LFS pointer rather than the content. */
  lfs?: LfsPointer;
}

/** A git submodule (gitlink) of the repository. */
export interface SubmoduleEntry {
  /** Repository-relative path of the submodule's directory. */
  path: string;
  /** True when its work tree is there; its files are then inventory files like any other. */
  checkedOut: boolean;
}

/**
 * The repository as rules see it: regular files only (symlinks are reported by
 * the inventory and never followed), minus `paths.exclude`.
 */
export interface Inventory {
  readonly root: string;
  /** Sorted by path. */
  readonly files: readonly FileEntry[];
  /** Git submodules (gitlinks and nested repositories), sorted by path; a checked-out one's files are in `files`. */
  readonly submodules?: readonly SubmoduleEntry[];
  /** Repository paths of the symbolic links left out of `files` (never followed), sorted. */
  readonly symlinks?: readonly string[];
  get(path: string): FileEntry | undefined;
  /** Files matching any of the globs (minimatch, `dot: true`). */
  match(globs: readonly string[]): FileEntry[];
  /** Absolute path of an inventory file, for streaming reads. */
  abs(path: string): string;
  /** The whole file; throws FileProblem(`budget-exceeded`) when larger than maxBytes. */
  readBytes(path: string, maxBytes: number): Promise<Buffer>;
  /**
   * The first `n` bytes (fewer for a shorter file), for deciding whether to
   * read on. Shares the run's content cache with readBytes.
   */
  readHead(path: string, n: number): Promise<Buffer>;
  /** The whole file as UTF-8 (invalid sequences replaced); same budget rule as readBytes. */
  readText(path: string, maxBytes: number): Promise<string>;
}

/** What a pull request (or `--base`/`--changed-files`) changed. */
export interface ChangedSet {
  /** Added or modified paths, including the new name of a rename. */
  readonly changed: ReadonlySet<string>;
  readonly added: ReadonlySet<string>;
  readonly deleted: ReadonlySet<string>;
  /** New path → old path. */
  readonly renamed: ReadonlyMap<string, string>;
  /** True when the path was added, modified, deleted, or renamed from or to. */
  touches(path: string): boolean;
  /** True when any touched path (either name of a rename, deletions included) matches a glob. */
  touchesAny(globs: readonly string[]): boolean;
  /** Every touched path: changed, deleted, and the old names of renames. */
  all(): string[];
}
